"""The per-minute sites function: finish schedule changes whose sending was interrupted."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib.container import container
from chalicelib.core.clock import event_time
from chalicelib.core.observability.runs import scheduled_run

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="site_fanout")
def site_fanout(event: CloudWatchEvent) -> dict[str, Any]:
    """Resume every site schedule fan-out whose runner went quiet (timed out or died)."""
    c = container()
    return scheduled_run(event.event_id, "site_fanout",
                         lambda: c.site_service.fanout.run_due(event_time(event), c.settings.sites.sweep_budget_s))
