"""Device twin routes: the operator's view and PATCH, the device's pull and report."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import wiring
from chalicelib.core.auth.routes import device, operator, operator_auth
from chalicelib.core.http.views import endpoint, json_response, parse_body, path_id
from chalicelib.twin.schemas import PatchDesired, ReportState

bp = Blueprint(__name__)


@bp.route("/customer/devices/{device_id}/twin", methods=["GET"], authorizer=operator_auth)
@endpoint
def get_twin(device_id: str) -> Any:
    tenant = operator(bp.current_request).tenant_id
    return json_response(wiring.twin_service().view(tenant, path_id(device_id, "device_id")))


@bp.route("/customer/devices/{device_id}/twin/desired", methods=["PATCH"], authorizer=operator_auth)
@endpoint
def patch_desired(device_id: str) -> Any:
    tenant = operator(bp.current_request).tenant_id
    body = parse_body(bp.current_request, PatchDesired, wiring.settings().max_body_bytes)
    return json_response(wiring.twin_service().patch_desired(tenant, path_id(device_id, "device_id"), body))


@bp.route("/customer/devices/{device_id}/twin/delta", methods=["GET"], authorizer=operator_auth)
@endpoint
def get_delta(device_id: str) -> Any:
    tenant = operator(bp.current_request).tenant_id
    return json_response(wiring.twin_service().delta(tenant, path_id(device_id, "device_id")))


@bp.route("/device/v1/shadow", methods=["GET"])
@endpoint
def device_shadow() -> Any:
    principal = device(bp.current_request)
    return json_response(wiring.twin_service().shadow(principal.tenant_id, principal.device_id))


@bp.route("/device/v1/shadow/reported", methods=["POST"])
@endpoint
def device_report() -> Any:
    principal = device(bp.current_request)
    body = parse_body(bp.current_request, ReportState, wiring.settings().max_body_bytes)
    return json_response(wiring.twin_service().report(principal.tenant_id, principal.device_id, body))
