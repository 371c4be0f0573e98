"""Operator routes of a device's certificates (AWS IoT's CreateKeysAndCertificate / UpdateCertificate model)."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.certificates.services import CertificateServices
from chalicelib.core.auth.routes import OPERATOR, OperatorCall
from chalicelib.core.feature import provided
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response, page_response

bp = Blueprint(__name__)
_certificates = provided(CertificateServices)

CERTIFICATES = "/customer/devices/{device_id}/certificates"
CERTIFICATE = CERTIFICATES + "/{certificate_id}"


@route(bp, CERTIFICATES, "POST", auth=OPERATOR)
def create_certificate(call: OperatorCall, device_id: str) -> Response:
    from chalicelib.certificates.schemas import CreateCertificate

    body = call.body(CreateCertificate)
    service = _certificates().certificate_service
    issued = service.issue(call.principal.tenant_id, device_id, body.csr, body.validity_days)
    # The private key (server-made pairs only) is in this answer and nowhere else, ever.
    return json_response({**issued.certificate.model_dump(mode="json"), "private_key_pem": issued.private_key_pem}, 201)


@route(bp, CERTIFICATES, "GET", auth=OPERATOR)
def list_certificates(call: OperatorCall, device_id: str) -> Response:
    page = _certificates().certificate_service.list_page(call.principal.tenant_id, device_id, *call.page())
    return page_response("certificates", page)


@route(bp, CERTIFICATE, "GET", auth=OPERATOR)
def get_certificate(call: OperatorCall, device_id: str, certificate_id: str) -> Response:
    return json_response(_certificates().certificate_service.get(call.principal.tenant_id, device_id, certificate_id))


@route(bp, CERTIFICATE, "PATCH", auth=OPERATOR)
def update_certificate(call: OperatorCall, device_id: str, certificate_id: str) -> Response:
    from chalicelib.certificates.schemas import UpdateCertificate

    status = call.body(UpdateCertificate).status
    service = _certificates().certificate_service
    return json_response(service.set_status(call.principal.tenant_id, device_id, certificate_id, status))


@route(bp, CERTIFICATE, "DELETE", auth=OPERATOR)
def delete_certificate(call: OperatorCall, device_id: str, certificate_id: str) -> Response:
    _certificates().certificate_service.delete(call.principal.tenant_id, device_id, certificate_id)
    return json_response({"certificate_id": certificate_id, "deleted": True})
