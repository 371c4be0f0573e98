"""The per-minute imports function: finish imports whose runner went quiet, erase expired credentials."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib.core.clock import event_time
from chalicelib.core.feature import provided
from chalicelib.core.observability.runs import scheduled_run
from chalicelib.imports.services import ImportServices

bp = Blueprint(__name__)
_imports = provided(ImportServices)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="device_imports")
def device_imports(event: CloudWatchEvent) -> dict[str, Any]:
    """Resume every import whose runner timed out or died; erase credentials downloaded or expired."""
    from chalicelib.core.config import get_settings  # pydantic: on the first call, not at import

    return scheduled_run(event.event_id, "device_imports", lambda: _imports().device_import_service.run_due(
        event_time(event), get_settings().device_imports.sweep_budget_s))
