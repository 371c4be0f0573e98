"""Device twin routes: the operator's view and PATCH, the device's pull and report."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.auth.routes import OPERATOR, OperatorCall
from chalicelib.core.feature import provided
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response
from chalicelib.devices.auth import DEVICE, DeviceCall
from chalicelib.twin.services import TwinServices

bp = Blueprint(__name__)
_twin = provided(TwinServices)


@route(bp, "/customer/devices/{device_id}/twin", "GET", auth=OPERATOR)
def get_twin(call: OperatorCall, device_id: str) -> Response:
    return json_response(_twin().twin_service.view(call.principal.tenant_id, device_id))


@route(bp, "/customer/devices/{device_id}/twin/desired", "PATCH", auth=OPERATOR)
def patch_desired(call: OperatorCall, device_id: str) -> Response:
    from chalicelib.twin.schemas import PatchDesired

    body = call.body(PatchDesired)
    return json_response(_twin().twin_service.patch_desired(call.principal.tenant_id, device_id, body))


@route(bp, "/customer/devices/{device_id}/twin/delta", "GET", auth=OPERATOR)
def get_delta(call: OperatorCall, device_id: str) -> Response:
    return json_response(_twin().twin_service.delta(call.principal.tenant_id, device_id))


@route(bp, "/device/v1/shadow", "GET", auth=DEVICE)
def device_shadow(call: DeviceCall) -> Response:
    return json_response(_twin().twin_service.shadow(call.principal.tenant_id, call.principal.device_id))


@route(bp, "/device/v1/shadow/reported", "POST", auth=DEVICE)
def device_report(call: DeviceCall) -> Response:
    from chalicelib.twin.schemas import ReportState

    me, body = call.principal, call.body(ReportState)
    return json_response(_twin().twin_service.report(me.tenant_id, me.device_id, body))
