"""Operator routes of device groups."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.container import container
from chalicelib.core.auth.routes import OPERATOR, OperatorCall
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response, page_body
from chalicelib.devices.schemas import CreateGroup

bp = Blueprint(__name__)


@route(bp, "/customer/groups", "POST", auth=OPERATOR)
def create_group(call: OperatorCall) -> Response:
    return json_response(container().group_service.create(call.principal.tenant_id, call.body(CreateGroup)), 201)


@route(bp, "/customer/groups", "GET", auth=OPERATOR)
def list_groups(call: OperatorCall) -> Response:
    page = container().group_service.list_page(call.principal.tenant_id, *call.page())
    return json_response(page_body("groups", page.items, page.next_token))


@route(bp, "/customer/groups/{group_id}", "GET", auth=OPERATOR)
def get_group(call: OperatorCall, group_id: str) -> Response:
    tenant, service, (limit, token) = call.principal.tenant_id, container().group_service, call.page()
    group = service.get(tenant, group_id)
    members = service.members(tenant, group_id, limit, token)
    return json_response({**group.model_dump(mode="json"), "members": members.items, "next_token": members.next_token})


@route(bp, "/customer/groups/{group_id}", "DELETE", auth=OPERATOR)
def delete_group(call: OperatorCall, group_id: str) -> Response:
    removed = container().group_service.delete(call.principal.tenant_id, group_id)
    return json_response({"group_id": group_id, "deleted": True, "members_removed": removed})


@route(bp, "/customer/groups/{group_id}/members/{device_id}", "PUT", auth=OPERATOR)
def add_member(call: OperatorCall, group_id: str, device_id: str) -> Response:
    added = container().group_service.add_member(call.principal.tenant_id, group_id, device_id)
    return json_response({"group_id": group_id, "device_id": device_id, "added": added}, 201 if added else 200)


@route(bp, "/customer/groups/{group_id}/members/{device_id}", "DELETE", auth=OPERATOR)
def remove_member(call: OperatorCall, group_id: str, device_id: str) -> Response:
    container().group_service.remove_member(call.principal.tenant_id, group_id, device_id)
    return json_response({"group_id": group_id, "device_id": device_id, "removed": True})
