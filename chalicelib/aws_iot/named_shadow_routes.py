"""Operator routes of a device's named shadows (the classic shadow is the twin at /twin)."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.aws_iot.services import AwsIotServices
from chalicelib.aws_iot.shadow_schemas import ShadowRejected, UpdateRequest, epoch, get_accepted
from chalicelib.aws_iot.topics import is_shadow_name
from chalicelib.core import errors
from chalicelib.core.auth.routes import OPERATOR, OperatorCall
from chalicelib.core.feature import provided
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response

bp = Blueprint(__name__)
_aws_iot = provided(AwsIotServices)
_ERRORS: dict[int, type[errors.DomainError]] = {
    400: errors.InvalidInput, 404: errors.NotFound, 409: errors.Conflict, 413: errors.PayloadTooLarge,
}


def _shadow(name: str) -> str:
    if not is_shadow_name(name):
        raise errors.NotFound(f"shadow {name!r} not found", field="shadow_name")
    return name


def _refused(exc: ShadowRejected, field: str) -> errors.DomainError:
    """The shadow service's refusal (an AWS IoT status) as the domain error of that status."""
    return _ERRORS.get(exc.code, errors.Conflict)(exc.message, field=field)


@route(bp, "/customer/devices/{device_id}/shadows", "GET", auth=OPERATOR)
def list_shadows(call: OperatorCall, device_id: str) -> Response:
    return json_response({"shadows": _aws_iot().shadow_service.names(call.principal.tenant_id, device_id)})


@route(bp, "/customer/devices/{device_id}/shadows/{name}", "GET", auth=OPERATOR)
def get_shadow(call: OperatorCall, device_id: str, name: str) -> Response:
    try:
        doc = _aws_iot().shadow_service.get(call.principal.tenant_id, device_id, _shadow(name))
    except ShadowRejected as exc:
        raise _refused(exc, "shadow_name") from exc
    return json_response(get_accepted(doc, epoch(doc.updated_at), None))


@route(bp, "/customer/devices/{device_id}/shadows/{name}/desired", "PATCH", auth=OPERATOR)
def patch_shadow(call: OperatorCall, device_id: str, name: str) -> Response:
    """Merge into desired (null deletes); `version` is the shadow version the caller read."""
    from chalicelib.twin.schemas import PatchDesired

    name, body = _shadow(name), call.body(PatchDesired)
    request = UpdateRequest(body.desired, None, False, False, body.version, None)
    try:
        return json_response(_aws_iot().shadow_service.update(call.principal.tenant_id, device_id, name, request))
    except ShadowRejected as exc:
        raise _refused(exc, "version" if exc.code == 409 else "desired") from exc


@route(bp, "/customer/devices/{device_id}/shadows/{name}", "DELETE", auth=OPERATOR)
def delete_shadow(call: OperatorCall, device_id: str, name: str) -> Response:
    try:
        return json_response(_aws_iot().shadow_service.delete(call.principal.tenant_id, device_id, _shadow(name),
                                                               None, None))
    except ShadowRejected as exc:
        raise _refused(exc, "shadow_name") from exc
