"""Operator routes of device groups."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.auth.routes import OPERATOR, OperatorCall
from chalicelib.core.feature import provided
from chalicelib.core.http.collections import collection_routes
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response, page_response
from chalicelib.groups.services import GroupServices

bp = Blueprint(__name__)
_groups = provided(GroupServices)


collection_routes(bp, "/customer/groups", "groups", ("chalicelib.devices.schemas", "CreateGroup"),
                  lambda: _groups().group_service)


@route(bp, "/customer/groups/{group_id}", "GET", auth=OPERATOR)
def get_group(call: OperatorCall, group_id: str) -> Response:
    tenant, service, (limit, token) = call.principal.tenant_id, _groups().group_service, call.page()
    group = service.get(tenant, group_id)
    return page_response("members", service.members(tenant, group_id, limit, token), record=group)


@route(bp, "/customer/groups/{group_id}", "DELETE", auth=OPERATOR)
def delete_group(call: OperatorCall, group_id: str) -> Response:
    removed = _groups().group_service.delete(call.principal.tenant_id, group_id)
    return json_response({"group_id": group_id, "deleted": True, "members_removed": removed})


@route(bp, "/customer/groups/{group_id}/members/{device_id}", "PUT", auth=OPERATOR)
def add_member(call: OperatorCall, group_id: str, device_id: str) -> Response:
    added = _groups().group_service.add_member(call.principal.tenant_id, group_id, device_id)
    return json_response({"group_id": group_id, "device_id": device_id, "added": added}, 201 if added else 200)


@route(bp, "/customer/groups/{group_id}/members/{device_id}", "DELETE", auth=OPERATOR)
def remove_member(call: OperatorCall, group_id: str, device_id: str) -> Response:
    _groups().group_service.remove_member(call.principal.tenant_id, group_id, device_id)
    return json_response({"group_id": group_id, "device_id": device_id, "removed": True})
