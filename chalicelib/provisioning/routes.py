"""Operator routes of provisioning templates: CRUD and a dry run of an enrolment."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.auth.routes import OPERATOR, OperatorCall
from chalicelib.core.feature import provided
from chalicelib.core.http.collections import collection_routes, delete_route
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response
from chalicelib.provisioning.services import ProvisioningServices

bp = Blueprint(__name__)
_provisioning = provided(ProvisioningServices)
PATH = "/customer/provisioning-templates"
ONE = PATH + "/{template_name}"
NAME = ("template_name",)

collection_routes(bp, PATH, "templates", ("chalicelib.provisioning.schemas", "CreateTemplate"),
                  lambda: _provisioning().template_service)


@route(bp, ONE, "GET", auth=OPERATOR, ids=NAME)
def get_template(call: OperatorCall, template_name: str) -> Response:
    return json_response(_provisioning().template_service.get(call.principal.tenant_id, template_name))


@route(bp, ONE, "PUT", auth=OPERATOR, ids=NAME)
def replace_template(call: OperatorCall, template_name: str) -> Response:
    from chalicelib.provisioning.schemas import TemplateBody

    return json_response(_provisioning().template_service.replace(call.principal.tenant_id, template_name,
                                                              call.body(TemplateBody)))


delete_route(bp, ONE, "template_name", lambda: _provisioning().template_service)


@route(bp, ONE + "/dry-run", "POST", auth=OPERATOR, ids=NAME)
def dry_run(call: OperatorCall, template_name: str) -> Response:
    from chalicelib.provisioning.schemas import DryRun

    body = call.body(DryRun)
    return json_response(_provisioning().template_service.dry_run(call.principal.tenant_id, template_name,
                                                              body.parameters, body.call_hook))
