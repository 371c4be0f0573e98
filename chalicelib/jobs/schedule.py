"""The per-minute jobs function: expiry, interrupted sweeps, rollout releases and execution timeouts."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib.core.clock import event_time
from chalicelib.core.feature import provided
from chalicelib.core.observability.runs import invocation, report_run
from chalicelib.jobs.services import JobServices

bp = Blueprint(__name__)
_jobs = provided(JobServices)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="jobs_sweep")
def jobs_sweep(event: CloudWatchEvent) -> dict[str, Any]:
    """Expire jobs, resume unfinished sweeps, release rollouts' next minute, time out hung executions."""
    from chalicelib.core.config import get_settings  # pydantic: on the first call, not at import

    with invocation(event.event_id, schedule="jobs_sweep"):
        now, budget = event_time(event), get_settings().jobs.sweep_budget_s
        sweep = report_run("jobs_sweep", _jobs().job_sweeper.run_due(now, budget))
        # Timeouts get what is left of the budget: a report line of their own, on the same correlation id.
        timeouts = report_run("job_timeouts", _jobs().job_timeouts.run_due(now, budget / 4))
        return {**sweep.as_dict(), "timed_out": timeouts.done, "timeouts_left": timeouts.left}
