"""Device routes of commands: poll the pending ones, acknowledge one."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import wiring
from chalicelib.commands.schemas import AckCommand
from chalicelib.core.auth.routes import device
from chalicelib.core.http.views import endpoint, json_response, parse_body, path_id

bp = Blueprint(__name__)


@bp.route("/device/v1/commands/pending", methods=["GET"])
@endpoint
def pending_commands() -> Any:
    principal = device(bp.current_request)
    commands = wiring.device_command_service().pending(principal.tenant_id, principal.device_id)
    return json_response({"commands": [c.pending_entry() for c in commands]})


@bp.route("/device/v1/commands/{command_id}/ack", methods=["POST"])
@endpoint
def acknowledge_command(command_id: str) -> Any:
    principal = device(bp.current_request)
    ack = parse_body(bp.current_request, AckCommand, wiring.settings().max_body_bytes)
    result = wiring.device_command_service().acknowledge(principal.tenant_id, principal.device_id,
                                                        path_id(command_id, "command_id"), ack)
    return json_response(result)
