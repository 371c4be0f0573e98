"""Per-minute functions of commands: republish what the broker did not take, close what expired."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib.container import container
from chalicelib.core.clock import event_time
from chalicelib.core.observability.runs import invocation, report_run

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="commands_retry")
def retry_commands(event: CloudWatchEvent) -> dict[str, Any]:
    with invocation(event.event_id, schedule="commands_retry"):
        report = container().command_dispatcher.retry_due(event_time(event))
        report_run("commands_retry", due=report.due, done=report.done, left=report.left, details=report.as_dict())
        return report.as_dict()


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="commands_expiry")
def expire_commands(event: CloudWatchEvent) -> dict[str, Any]:
    with invocation(event.event_id, schedule="commands_expiry"):
        report = container().command_expiry.expire_due(event_time(event))
        report_run("commands_expiry", due=report.due, done=report.done, left=report.left, details=report.as_dict())
        return report.as_dict()
