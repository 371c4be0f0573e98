"""The per-minute jobs function: expire jobs and finish interrupted cancel/expiry sweeps."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib.container import container
from chalicelib.core.clock import event_time
from chalicelib.core.observability.runs import invocation, report_run

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="jobs_sweep")
def jobs_sweep(event: CloudWatchEvent) -> dict[str, Any]:
    """Time out the open executions of expired jobs, resuming any sweep left unfinished."""
    with invocation(event.event_id, schedule="jobs_sweep"):
        report = container().job_sweeper.run_due(event_time(event), container().settings.jobs.sweep_budget_s)
        report_run("jobs_sweep", due=report.due, done=report.done, left=report.left, details=report.as_dict())
        return report.as_dict()
