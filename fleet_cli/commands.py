"""`fleet commands`: send a command (and follow it until final), read a device's history."""
from __future__ import annotations

import uuid
from typing import Any

import typer

from fleet_cli.app import api, json_option
from fleet_cli.client import resource
from fleet_cli.errors import OutcomeError
from fleet_cli.options import JSON, LIMIT
from fleet_cli.output import print_items, print_result
from fleet_cli.waiting import with_spinner

app = typer.Typer(no_args_is_help=True, help="Commands to devices.")

COLUMNS = ("command_id", "command_type", "status", "created_at", "acked_at", "expires_at")
SUCCESS = "delivered"
PARAMS = typer.Option(None, "--params", help="command parameters, a JSON object")
CLIENT_TOKEN = typer.Option(None, "--client-token",
                            help="idempotency key (default: a fresh one, so retries never send twice)")
WAIT_TIMEOUT = typer.Option(300.0, "--wait-timeout", min=0.1, help="seconds --wait waits")


def command_body(command_type: str, params: str | None, ttl: int | None, client_token: str | None) -> dict[str, Any]:
    """The POST body of a command, to one device or to a group or site; a fresh client token unless given."""
    body: dict[str, Any] = {"command_type": command_type, "command_params": json_option(params, "--params") or {},
                            "client_token": client_token or uuid.uuid4().hex}
    if ttl is not None:
        body["expires_in_minutes"] = ttl
    return body


@app.command()
def send(
    device_id: str,
    command_type: str,
    params: str | None = PARAMS,
    ttl: int | None = typer.Option(None, "--ttl", min=1, help="minutes until the command expires"),
    client_token: str | None = CLIENT_TOKEN,
    wait: bool = typer.Option(False, "--wait", help="follow the command until it is final"),
    timeout: float = WAIT_TIMEOUT,
    interval: float = typer.Option(0.5, "--interval", min=0.05, help="seconds between polls"),
    as_json: bool = JSON,
) -> None:
    """Send a command. With --wait, exit 3 if it ends missed or expired, 4 if the wait runs out."""
    body = command_body(command_type, params, ttl, client_token)
    client = api()
    command = client.post(resource("customer", "devices", device_id, "commands"), body, replayable=True)
    if wait:
        path = resource("customer", "devices", device_id, "commands", command["command_id"])
        command = with_spinner(lambda: client.get(path), lambda c: c.get("status") != "queued", timeout=timeout,
                               interval=interval, what=f"command {command['command_id']}",
                               label=lambda c: str(c.get("status")))
    print_result(command, as_json)
    if wait and command.get("status") != SUCCESS:
        raise OutcomeError(f"command {command['command_id']} ended {command.get('status')}")


@app.command()
def show(device_id: str, command_id: str, as_json: bool = JSON) -> None:
    """One command of a device."""
    command = api().get(resource("customer", "devices", device_id, "commands", command_id))
    print_result(command, as_json)


@app.command()
def history(
    device_id: str,
    status: str | None = typer.Option(None, "--status", help="queued, delivered, missed or expired"),
    limit: int | None = LIMIT,
    as_json: bool = JSON,
) -> None:
    """A device's commands, newest first (every page, streamed)."""
    commands = api().header_items(resource("customer", "devices", device_id, "commands"), {"status": status},
                                 limit)
    print_items(commands, COLUMNS, as_json)
