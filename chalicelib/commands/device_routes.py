"""Device routes of commands: poll the pending ones, acknowledge one."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.commands.services import CommandServices
from chalicelib.core.feature import provided
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response
from chalicelib.devices.auth import DEVICE, DeviceCall

bp = Blueprint(__name__)
_commands = provided(CommandServices)


@route(bp, "/device/v1/commands/pending", "GET", auth=DEVICE)
def pending_commands(call: DeviceCall) -> Response:
    commands = _commands().device_command_service.pending(call.principal.tenant_id, call.principal.device_id)
    return json_response({"commands": [c.pending_entry() for c in commands]})


@route(bp, "/device/v1/commands/{command_id}/ack", "POST", auth=DEVICE)
def acknowledge_command(call: DeviceCall, command_id: str) -> Response:
    from chalicelib.commands.schemas import AckCommand

    me = call.principal
    ack = call.body(AckCommand)
    return json_response(_commands().device_command_service.acknowledge(me.tenant_id, me.device_id, command_id, ack))
