"""What follows an execution's change: completion of a sharded job, abort thresholds, the next release."""
from __future__ import annotations

import time
from datetime import datetime

from chalicelib.core.errors import Conflict
from chalicelib.core.ids import new_id
from chalicelib.core.observability.log import logger
from chalicelib.jobs.release import RolloutReleaser
from chalicelib.jobs.rollout import abort_met, abort_reason
from chalicelib.jobs.rules import FINAL
from chalicelib.jobs.schemas import ExecutionStatus, Job, JobStatus, SweepKind
from chalicelib.jobs.store import JobRepository, JobState
from chalicelib.jobs.sweeps import JobSweeper


class JobProgress:
    """Runs after every applied execution change (device update or timeout).

    With counters spread over shards no single write sees that it finished the job, so
    the finisher reads the totals after its own write: the last one to commit sees none
    open and flips the job with a conditional write, which succeeds once.
    """

    def __init__(self, jobs: JobRepository, sweeper: JobSweeper, releaser: RolloutReleaser,
                 abort_budget_s: float) -> None:
        self._jobs = jobs
        self._sweeper = sweeper
        self._releaser = releaser
        self._abort_budget_s = abort_budget_s

    def after_change(self, before: JobState, target: ExecutionStatus, now: datetime) -> None:
        """Complete, abort or release as the new totals say."""
        job = before.job
        if target not in FINAL or not (before.counter_shards or job.abort or job.rollout):
            return
        state = self._jobs.find(job.tenant_id, job.job_id)
        if state is None or state.job.status is not JobStatus.IN_PROGRESS or state.sweep is not None:
            return
        if self.abort_if_met(state, now):
            return
        if state.counter_shards and state.open_count <= 0 and state.job.target_selection != "CONTINUOUS":
            if self._jobs.complete(job.tenant_id, job.job_id, now):
                logger.info("job completed", tenant=job.tenant_id, job_id=job.job_id, outcome="completed")
            return
        # A minute has passed since the last release: the finishing device pulls the next ones in.
        self._releaser.release(state, now)

    def abort_if_met(self, state: JobState, now: datetime) -> bool:
        """Cancel the job as DELETE would when one of its abort criteria is met."""
        job: Job = state.job
        met = abort_met(job.abort or [], job.counts)
        if met is None:
            return False
        try:
            swept = self._jobs.begin_sweep(job.tenant_id, job.job_id, SweepKind.CANCEL, new_id(), now,
                                           abort=met, reason=abort_reason(met))
        except Conflict:  # another finisher aborted it, or an operator canceled it
            return True
        logger.warning("job aborted", tenant=job.tenant_id, job_id=job.job_id, outcome="aborted",
                       reason=abort_reason(met))
        try:
            self._sweeper.continue_sweep(swept, time.monotonic() + self._abort_budget_s, now)
        except Exception:  # the abort is committed; the schedule resumes the sweep
            logger.exception("abort sweep interrupted; the schedule resumes it", tenant=job.tenant_id,
                             job_id=job.job_id, outcome="left")
        return True
