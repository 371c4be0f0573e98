"""The per-minute imports function: finish imports whose runner went quiet, erase expired credentials."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib.container import container
from chalicelib.core.clock import event_time
from chalicelib.core.observability.runs import scheduled_run

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="device_imports")
def device_imports(event: CloudWatchEvent) -> dict[str, Any]:
    """Resume every import whose runner timed out or died; erase credentials downloaded or expired."""
    c = container()
    return scheduled_run(event.event_id, "device_imports", lambda: c.device_import_service.run_due(
        event_time(event), c.settings.device_imports.sweep_budget_s))
