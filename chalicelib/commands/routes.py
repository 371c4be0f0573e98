"""Operator routes of commands: send, list a device's history, read one."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.commands.services import CommandServices
from chalicelib.core.auth.routes import OPERATOR, OperatorCall
from chalicelib.core.feature import provided
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response

bp = Blueprint(__name__)
_commands = provided(CommandServices)

# The history is a bare JSON array (seed 000 iterates it), so its cursor travels in a header.
NEXT_TOKEN_HEADER = "X-Next-Token"


@route(bp, "/customer/devices/{device_id}/commands", "POST", auth=OPERATOR)
def create_command(call: OperatorCall, device_id: str) -> Response:
    from chalicelib.commands.schemas import CreateCommand

    who = call.principal
    command = _commands().command_service.create(who.tenant_id, device_id, call.body(CreateCommand), who.subject)
    return json_response(command, 201)


@route(bp, "/customer/devices/{device_id}/commands", "GET", auth=OPERATOR)
def list_commands(call: OperatorCall, device_id: str) -> Response:
    from chalicelib.commands.schemas import CommandListQuery

    limit, token = call.page()
    status = call.query(CommandListQuery).status
    page = _commands().command_service.history(call.principal.tenant_id, device_id, limit, token, status)
    return json_response(page.items, headers={NEXT_TOKEN_HEADER: page.next_token} if page.next_token else None)


# The command id is looked up as given: an unknown or malformed one is the service's 404.
@route(bp, "/customer/devices/{device_id}/commands/{command_id}", "GET", auth=OPERATOR, ids=("device_id",))
def get_command(call: OperatorCall, device_id: str, command_id: str) -> Response:
    return json_response(_commands().command_service.get(call.principal.tenant_id, device_id, command_id))
