"""The per-minute jobs function: expire jobs and finish interrupted cancel/expiry sweeps."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib import wiring
from chalicelib.core.clock import event_time

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="jobs_sweep")
def jobs_sweep(event: CloudWatchEvent) -> dict[str, Any]:
    """Expire jobs, resume unfinished sweeps, release rollouts' next minute, time out hung executions."""
    now, budget = event_time(event), wiring.settings().job_sweep_budget_s
    report = wiring.job_sweeper().run_due(now, budget)
    return {**report.as_dict(), **wiring.job_timeouts().run_due(now, budget / 4)}
