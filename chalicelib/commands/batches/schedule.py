"""The per-minute batches function: finish group and site commands whose sending was interrupted."""
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


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="command_batches")
def command_batches(event: CloudWatchEvent) -> dict[str, Any]:
    """Resume every batch whose runner went quiet (timed out or died)."""
    from chalicelib.core.config import get_settings  # pydantic: on the first call, not at import

    return scheduled_run(event.event_id, "command_batches", lambda: _commands().command_batch_service.run_due(
        event_time(event), get_settings().command_batches.sweep_budget_s))
