"""Operator routes of device groups."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import wiring
from chalicelib.core.auth.routes import operator, operator_auth
from chalicelib.core.http.views import endpoint, json_response, page_args, page_body, parse_body, path_id
from chalicelib.devices.schemas import CreateGroup

bp = Blueprint(__name__)


@bp.route("/customer/groups", methods=["POST"], authorizer=operator_auth)
@endpoint
def create_group() -> Any:
    tenant = operator(bp.current_request).tenant_id
    body = parse_body(bp.current_request, CreateGroup, wiring.settings().max_body_bytes)
    return json_response(wiring.group_service().create(tenant, body), 201)


@bp.route("/customer/groups", methods=["GET"], authorizer=operator_auth)
@endpoint
def list_groups() -> Any:
    s = wiring.settings()
    tenant = operator(bp.current_request).tenant_id
    limit, token = page_args(bp.current_request, s.page_size_default, s.page_size_max)
    page = wiring.group_service().list_page(tenant, limit, token)
    return json_response(page_body("groups", page.items, page.next_token))


@bp.route("/customer/groups/{group_id}", methods=["GET"], authorizer=operator_auth)
@endpoint
def get_group(group_id: str) -> Any:
    s = wiring.settings()
    tenant = operator(bp.current_request).tenant_id
    group_id = path_id(group_id, "group_id")
    limit, token = page_args(bp.current_request, s.page_size_default, s.page_size_max)
    service = wiring.group_service()
    group = service.get(tenant, group_id)
    members = service.members(tenant, group_id, limit, token)
    return json_response({**group.model_dump(mode="json"), "members": members.items,
                          "next_token": members.next_token})


@bp.route("/customer/groups/{group_id}", methods=["DELETE"], authorizer=operator_auth)
@endpoint
def delete_group(group_id: str) -> Any:
    tenant = operator(bp.current_request).tenant_id
    removed = wiring.group_service().delete(tenant, path_id(group_id, "group_id"))
    return json_response({"group_id": group_id, "deleted": True, "members_removed": removed})


@bp.route("/customer/groups/{group_id}/members/{device_id}", methods=["PUT"], authorizer=operator_auth)
@endpoint
def add_member(group_id: str, device_id: str) -> Any:
    tenant = operator(bp.current_request).tenant_id
    added = wiring.group_service().add_member(tenant, path_id(group_id, "group_id"), path_id(device_id, "device_id"))
    return json_response({"group_id": group_id, "device_id": device_id, "added": added}, 201 if added else 200)


@bp.route("/customer/groups/{group_id}/members/{device_id}", methods=["DELETE"], authorizer=operator_auth)
@endpoint
def remove_member(group_id: str, device_id: str) -> Any:
    tenant = operator(bp.current_request).tenant_id
    wiring.group_service().remove_member(tenant, path_id(group_id, "group_id"), path_id(device_id, "device_id"))
    return json_response({"group_id": group_id, "device_id": device_id, "removed": True})
