"""The per-minute sites function: finish schedule changes whose sending was interrupted."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib.core.clock import event_time
from chalicelib.core.feature import provided
from chalicelib.core.observability.runs import scheduled_run
from chalicelib.sites.services import SiteServices

bp = Blueprint(__name__)
_sites = provided(SiteServices)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="site_fanout")
def site_fanout(event: CloudWatchEvent) -> dict[str, Any]:
    """Resume every site schedule fan-out whose runner went quiet (timed out or died)."""
    from chalicelib.core.config import get_settings  # pydantic: on the first call, not at import

    return scheduled_run(event.event_id, "site_fanout", lambda: _sites().site_service.fanout.run_due(
        event_time(event), get_settings().sites.sweep_budget_s))
