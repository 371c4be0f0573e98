"""Operator routes of commands: send, list a device's history, read one."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import wiring
from chalicelib.commands.schemas import CommandListQuery, CreateCommand
from chalicelib.core.auth.routes import operator, operator_auth
from chalicelib.core.http.views import endpoint, json_response, page_args, parse_body, parse_query, path_id

bp = Blueprint(__name__)

# The history is a bare JSON array (seed 000 iterates it), so its cursor travels in a header.
NEXT_TOKEN_HEADER = "X-Next-Token"


@bp.route("/customer/devices/{device_id}/commands", methods=["POST"], authorizer=operator_auth)
@endpoint
def create_command(device_id: str) -> Any:
    principal = operator(bp.current_request)
    body = parse_body(bp.current_request, CreateCommand, wiring.settings().max_body_bytes)
    command = wiring.command_service().create(principal.tenant_id, path_id(device_id, "device_id"), body,
                                              principal.subject)
    return json_response(command, 201)


@bp.route("/customer/devices/{device_id}/commands", methods=["GET"], authorizer=operator_auth)
@endpoint
def list_commands(device_id: str) -> Any:
    s = wiring.settings()
    tenant = operator(bp.current_request).tenant_id
    limit, token = page_args(bp.current_request, s.page_size_default, s.page_size_max)
    query = parse_query(bp.current_request, CommandListQuery)
    page = wiring.command_service().history(tenant, path_id(device_id, "device_id"), limit, token, query.status)
    return json_response(page.items, headers={NEXT_TOKEN_HEADER: page.next_token} if page.next_token else None)


@bp.route("/customer/devices/{device_id}/commands/{command_id}", methods=["GET"], authorizer=operator_auth)
@endpoint
def get_command(device_id: str, command_id: str) -> Any:
    tenant = operator(bp.current_request).tenant_id
    return json_response(wiring.command_service().get(tenant, path_id(device_id, "device_id"), command_id))
