"""The per-minute group-deletes function: finish group deletes whose run died halfway."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib.core.clock import event_time
from chalicelib.core.feature import provided
from chalicelib.core.observability.runs import scheduled_run
from chalicelib.groups.services import GroupServices

bp = Blueprint(__name__)
_groups = provided(GroupServices)
# Well inside the function's timeout: what is left waits for the next minute.
BUDGET_S = 30.0


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="group_deletes")
def group_deletes(event: CloudWatchEvent) -> dict[str, Any]:
    """Remove the memberships (then the group) of every delete whose run went quiet."""
    return scheduled_run(event.event_id, "group_deletes",
                         lambda: _groups().group_service.resume_deletes(event_time(event), BUDGET_S))
