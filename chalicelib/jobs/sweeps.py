"""Bulk changes of a job's executions (cancel, expiry) in bounded, resumable chunks."""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.core.errors import Conflict
from chalicelib.core.ids import new_id
from chalicelib.core.observability.log import logger
from chalicelib.core.observability.metrics import metrics
from chalicelib.core.sweep import Outcome, SweepReport, SweepRunner
from chalicelib.jobs.execution_store import ExecutionRepository
from chalicelib.jobs.release import RolloutReleaser
from chalicelib.jobs.rules import SWEEPS, counter_deltas
from chalicelib.jobs.schemas import Execution, ExecutionStatus, SweepKind
from chalicelib.jobs.store import JobRepository, JobState

DUE_PAGE = 100


@dataclass
class JobSweepReport(SweepReport):
    """What one scheduled run did: jobs expired, chunks swept; `done` counts the sweeps finished."""

    expired: int = 0
    released: int = 0
    chunks: int = 0

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "finished": self.done}


class JobSweeper:
    """Moves a job's executions in chunks, each counted exactly once.

    A chunk is: read up to `chunk` executions after the job's cursor (consistent Query),
    batch-write the ones the sweep changes, then one conditional update of the job that
    adds the chunk's counter changes and moves the cursor, if the cursor is still where
    the chunk began. A run that dies between the batch write and that update leaves
    executions marked with the sweep's id and their previous status; the next run reads
    the same chunk again and counts them then. Device writes to these executions are
    refused while the sweep runs (see job_accepts_condition), so nothing changes under it.
    """

    def __init__(self, jobs: JobRepository, executions: ExecutionRepository, shards: int, chunk: int,
                 monotonic: Callable[[], float] = time.monotonic, releaser: RolloutReleaser | None = None) -> None:
        self._jobs = jobs
        self._releaser = releaser
        self._executions = executions
        self._shards = shards
        self._chunk = chunk
        self._runner = SweepRunner(shards, monotonic)

    def run_due(self, now: datetime, budget_s: float) -> JobSweepReport:
        """The scheduled work: resume unfinished sweeps, expire jobs past their expiry."""
        deadline = self._runner.deadline(budget_s)
        report = JobSweepReport()
        # Each run makes some progress, however small its budget (progress_first).
        return self._runner.run(report, lambda shard: self._jobs.due(shard, now, DUE_PAGE),
                                lambda due: self._run_one(*due, now, deadline, report),
                                key=lambda due: due[1], deadline=deadline, progress_first=True)

    def _run_one(self, tenant_id: str, job_id: str, now: datetime, deadline: float,
                 report: JobSweepReport) -> Outcome:
        state = self._jobs.find(tenant_id, job_id)
        if state is None:
            return Outcome.SKIPPED
        if state.sweep is None:
            if state.job.expires_at > now:
                if self._releaser is not None:  # due for its rollout's next minute
                    report.released += self._releaser.release(state, now)
                return Outcome.SKIPPED
            if state.open_count <= 0 and state.job.target_selection != "CONTINUOUS":
                self._jobs.settle_due(tenant_id, job_id)
                return Outcome.SKIPPED
            try:
                state = self._jobs.begin_sweep(tenant_id, job_id, SweepKind.EXPIRE, new_id(), now)
            except Conflict:  # someone else started a sweep or finished the job meanwhile
                return Outcome.SKIPPED
            report.expired += 1
        done, chunks = self._sweep(state, deadline, now)
        report.chunks += chunks
        return Outcome.DONE if done else Outcome.LEFT

    def continue_sweep(self, state: JobState, deadline: float, now: datetime) -> bool:
        """Process chunks of a job's running sweep until it finishes (True) or time runs out."""
        return self._sweep(state, deadline, now)[0]

    def _sweep(self, state: JobState, deadline: float, now: datetime) -> tuple[bool, int]:
        chunks = 0
        sweep_id = state.sweep_id
        # A run that died between marking the job and fencing its counter shards left them open.
        self._jobs.fence(state)
        current: JobState | None = state
        while current is not None and current.sweep is not None and current.sweep_id == sweep_id:
            if chunks and self._runner.out_of_time(deadline):
                return False, chunks
            self._chunk_once(current, now)
            chunks += 1
            current = self._jobs.find(state.job.tenant_id, state.job.job_id)
        return True, chunks

    def _chunk_once(self, state: JobState, now: datetime) -> None:
        assert state.sweep is not None
        eligible, target, reason = SWEEPS[state.sweep]
        if state.sweep is SweepKind.CANCEL and state.job.reason:
            reason = state.job.reason  # an abort says why
        marker = f"{state.sweep.value}:{state.sweep_id}"
        tenant_id, job_id = state.job.tenant_id, state.job.job_id
        items, cursor_to = self._executions.sweep_chunk(tenant_id, job_id, state.sweep_cursor or "", self._chunk)
        moves: Counter[ExecutionStatus] = Counter()
        writes: list[tuple[Execution, ExecutionStatus]] = []
        for item in items:
            execution = item.execution
            if execution.status in eligible:
                writes.append((_moved(execution, target, reason, now), execution.status))
                moves[execution.status] += 1
            elif item.swept_by == marker and item.prev_status is not None:
                # Written by an earlier run of this sweep that died before counting it.
                moves[item.prev_status] += 1
        if writes:
            self._executions.write_swept(tenant_id, writes, marker)
        moved = sum(moves.values())
        if not self._jobs.advance_sweep(state, cursor_to, counter_deltas(dict(moves), target), -moved, now):
            logger.info("sweep chunk counted by a concurrent run", tenant=tenant_id, job_id=job_id, outcome="skipped")
            return
        metrics.count_by("JobExecutionsFinished", "status", target.value, moved)
        logger.info("sweep chunk", tenant=tenant_id, job_id=job_id, sweep=state.sweep.value, moved=moved,
                    outcome=target.value)


def _moved(execution: Execution, target: ExecutionStatus, reason: str, now: datetime) -> Execution:
    return execution.model_copy(update={
        "status": target,
        "status_details": {**execution.status_details, "reason": reason},
        "version_number": execution.version_number + 1,
        "updated_at": now,
    })
