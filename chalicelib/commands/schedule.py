"""Per-minute functions of commands: republish what the broker did not take, close what expired."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib.commands.services import CommandServices
from chalicelib.core.clock import event_time
from chalicelib.core.feature import provided
from chalicelib.core.observability.runs import scheduled_run

bp = Blueprint(__name__)
_commands = provided(CommandServices)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="commands_retry")
def retry_commands(event: CloudWatchEvent) -> dict[str, Any]:
    return scheduled_run(event.event_id, "commands_retry",
                         lambda: _commands().command_dispatcher.retry_due(event_time(event)))


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="commands_expiry")
def expire_commands(event: CloudWatchEvent) -> dict[str, Any]:
    return scheduled_run(event.event_id, "commands_expiry",
                         lambda: _commands().command_expiry.expire_due(event_time(event)))
