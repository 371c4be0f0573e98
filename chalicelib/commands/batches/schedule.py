"""The per-minute batches function: finish group and site commands whose sending was interrupted."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib.container import container
from chalicelib.core.clock import event_time
from chalicelib.core.observability.runs import scheduled_run

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="command_batches")
def command_batches(event: CloudWatchEvent) -> dict[str, Any]:
    """Resume every batch whose runner went quiet (timed out or died)."""
    c = container()
    return scheduled_run(event.event_id, "command_batches", lambda: c.command_batch_service.run_due(
        event_time(event), c.settings.command_batches.sweep_budget_s))
