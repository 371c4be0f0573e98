"""`fleet groups command`, `fleet sites command`, `fleet batches`: one command to every member, one batch."""
from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import typer

from fleet_cli.app import api
from fleet_cli.client import resource
from fleet_cli.commands import CLIENT_TOKEN, PARAMS, WAIT_TIMEOUT, command_body
from fleet_cli.errors import OutcomeError
from fleet_cli.options import JSON, LIMIT
from fleet_cli.output import print_items, print_json, print_record, print_result, stream_table
from fleet_cli.waiting import with_spinner

app = typer.Typer(no_args_is_help=True, help="Group and site commands (batches): counts per status and each command.")

COLUMNS = ("batch_id", "target_type", "target_id", "command_type", "status", "sent", "skipped", "created_at")
MEMBER_COLUMNS = ("device_id", "command_id", "status", "published_at", "acked_at")
FAILED = ("missed", "expired")


def _path(batch_id: str) -> str:
    return resource("customer", "command-batches", batch_id)


def _settled(batch: dict[str, Any]) -> bool:
    return batch.get("status") == "sent" and not batch.get("counts", {}).get("queued")


def sender(kind: str) -> Callable[..., None]:
    """The `command` sub-command of `fleet groups` (kind "groups") or `fleet sites` ("sites")."""
    noun = kind.removesuffix("s")

    def command(
        target_id: str = typer.Argument(..., metavar=f"{noun.upper()}_ID"),
        command_type: str = typer.Argument(...),
        params: str | None = PARAMS,
        ttl: int | None = typer.Option(None, "--ttl", min=1, help="minutes until the commands expire"),
        client_token: str | None = CLIENT_TOKEN,
        wait: bool = typer.Option(False, "--wait", help="follow the batch until every command is final"),
        timeout: float = WAIT_TIMEOUT,
        interval: float = typer.Option(1.0, "--interval", min=0.05, help="seconds between polls"),
        as_json: bool = JSON,
    ) -> None:
        body = command_body(command_type, params, ttl, client_token)
        client = api()
        batch = client.post(resource("customer", kind, target_id, "commands"), body, replayable=True)
        if wait:
            path = _path(batch["batch_id"])
            batch = with_spinner(lambda: client.get(path, limit=1), _settled, timeout=timeout, interval=interval,
                                 what=f"batch {batch['batch_id']}", label=_progress)
            batch.pop("commands", None)
            batch.pop("next_token", None)
        print_result(batch, as_json)
        failed = sum(batch.get("counts", {}).get(s, 0) for s in FAILED)
        if wait and failed:
            raise OutcomeError(f"batch {batch['batch_id']}: {failed} commands ended missed or expired")

    command.__doc__ = (f"Send one command to every enabled device of a {noun}. With --wait, exit 3 if any ends "
                       "missed or expired, 4 if the wait runs out.")
    return command


def _progress(batch: dict[str, Any]) -> str:
    counts = batch.get("counts", {})
    return f"{batch.get('status')}: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v)


@app.command("list")
def list_cmd(
    limit: int | None = LIMIT,
    as_json: bool = JSON,
) -> None:
    """Group and site commands, newest first (every page, streamed)."""
    batches = api().items("/customer/command-batches", "batches", None, limit)
    print_items(batches, COLUMNS, as_json)


@app.command()
def show(batch_id: str, as_json: bool = JSON) -> None:
    """A batch: its counts per status and every one of its commands (all pages)."""
    pages = api().pages(_path(batch_id), "commands")
    first = next(pages)
    commands = list(itertools.chain(first.get("commands") or [], *(p.get("commands") or [] for p in pages)))
    batch = {**first, "commands": commands, "next_token": None}
    if as_json:
        print_json(batch)
        return
    print_record({k: v for k, v in batch.items() if k not in ("commands", "next_token")})
    stream_table(commands, MEMBER_COLUMNS)
