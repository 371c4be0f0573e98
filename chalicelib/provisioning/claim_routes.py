"""Operator routes of a template's claim certificates: issue (key answered once), list, show, revoke."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.auth.routes import OPERATOR, OperatorCall
from chalicelib.core.feature import provided
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response, page_response
from chalicelib.provisioning.services import ProvisioningServices

bp = Blueprint(__name__)
_provisioning = provided(ProvisioningServices)
CLAIMS = "/customer/provisioning-templates/{template_name}/claim-certificates"
CLAIM = CLAIMS + "/{certificate_id}"


@route(bp, CLAIMS, "POST", auth=OPERATOR, ids=("template_name",))
def create_claim_certificate(call: OperatorCall, template_name: str) -> Response:
    from chalicelib.certificates.schemas import CreateClaimCertificate

    body = call.body(CreateClaimCertificate)
    claim, key = _provisioning().claim_service.issue(call.principal.tenant_id, template_name, body.expires_in_days)
    # The private key is in this answer and nowhere else, ever.
    return json_response({**claim.model_dump(mode="json"), "private_key_pem": key}, 201)


@route(bp, CLAIMS, "GET", auth=OPERATOR, ids=("template_name",))
def list_claim_certificates(call: OperatorCall, template_name: str) -> Response:
    page = _provisioning().claim_service.list_page(call.principal.tenant_id, template_name, *call.page())
    return page_response("claim_certificates", page)


@route(bp, CLAIM, "GET", auth=OPERATOR, ids=("template_name", "certificate_id"))
def get_claim_certificate(call: OperatorCall, template_name: str, certificate_id: str) -> Response:
    return json_response(_provisioning().claim_service.get(call.principal.tenant_id, template_name, certificate_id))


@route(bp, CLAIM, "PATCH", auth=OPERATOR, ids=("template_name", "certificate_id"))
def update_claim_certificate(call: OperatorCall, template_name: str, certificate_id: str) -> Response:
    from chalicelib.certificates.schemas import UpdateCertificate

    status = call.body(UpdateCertificate).status
    return json_response(_provisioning().claim_service.set_status(call.principal.tenant_id, template_name,
                                                                  certificate_id, status))
