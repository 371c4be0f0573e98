"""Operator routes of a device's named shadows (the classic shadow is the twin at /twin)."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import wiring
from chalicelib.aws_iot.shadow_schemas import ShadowRejected, UpdateRequest, epoch, get_accepted
from chalicelib.aws_iot.topics import is_shadow_name
from chalicelib.core import errors
from chalicelib.core.auth.routes import operator, operator_auth
from chalicelib.core.http.views import endpoint, json_response, parse_body, path_id
from chalicelib.twin.schemas import PatchDesired

bp = Blueprint(__name__)
_ERRORS: dict[int, type[errors.DomainError]] = {
    400: errors.InvalidInput, 404: errors.NotFound, 409: errors.Conflict, 413: errors.PayloadTooLarge,
}


def _ids(device_id: str, name: str) -> tuple[str, str]:
    tenant = operator(bp.current_request).tenant_id
    if not is_shadow_name(name):
        raise errors.NotFound(f"shadow {name!r} not found", field="shadow_name")
    return tenant, path_id(device_id, "device_id")


def _domain(exc: ShadowRejected, field: str) -> errors.DomainError:
    return _ERRORS.get(exc.code, errors.Conflict)(exc.message, field=field)


@bp.route("/customer/devices/{device_id}/shadows", methods=["GET"], authorizer=operator_auth)
@endpoint
def list_shadows(device_id: str) -> Any:
    tenant = operator(bp.current_request).tenant_id
    return json_response({"shadows": wiring.shadow_service().names(tenant, path_id(device_id, "device_id"))})


@bp.route("/customer/devices/{device_id}/shadows/{name}", methods=["GET"], authorizer=operator_auth)
@endpoint
def get_shadow(device_id: str, name: str) -> Any:
    tenant, device = _ids(device_id, name)
    try:
        doc = wiring.shadow_service().get(tenant, device, name)
    except ShadowRejected as exc:
        raise _domain(exc, "shadow_name") from exc
    return json_response(get_accepted(doc, epoch(doc.updated_at), None))


@bp.route("/customer/devices/{device_id}/shadows/{name}/desired", methods=["PATCH"], authorizer=operator_auth)
@endpoint
def patch_shadow(device_id: str, name: str) -> Any:
    """Merge into desired (null deletes); `version` is the shadow version the caller read."""
    tenant, device = _ids(device_id, name)
    body = parse_body(bp.current_request, PatchDesired, wiring.settings().max_body_bytes)
    request = UpdateRequest(body.desired, None, False, False, body.version, None)
    try:
        return json_response(wiring.shadow_service().update(tenant, device, name, request))
    except ShadowRejected as exc:
        raise _domain(exc, "version" if exc.code == 409 else "desired") from exc


@bp.route("/customer/devices/{device_id}/shadows/{name}", methods=["DELETE"], authorizer=operator_auth)
@endpoint
def delete_shadow(device_id: str, name: str) -> Any:
    tenant, device = _ids(device_id, name)
    try:
        return json_response(wiring.shadow_service().delete(tenant, device, name, None, None))
    except ShadowRejected as exc:
        raise _domain(exc, "shadow_name") from exc
