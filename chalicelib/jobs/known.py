"""What a process already knows of jobs and executions, so a device's update needs no read before its write.

Nothing known here decides an answer by itself. The write it leads to is conditional on the
execution's status and version, on every other field the answer reports from it, and on the
job's fence (the job item or a counter shard,
which a cancel or expiry changes before it touches any execution). A stale entry therefore
costs one refused write and the usual consistent read, never a wrong answer, and never a count
moved twice: the counters move in the same transaction as the execution, or not at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.core.read_cache import ReadCache
from chalicelib.jobs.ports import JobStates
from chalicelib.jobs.rules import FINAL
from chalicelib.jobs.schemas import Execution, ExecutionStatus
from chalicelib.jobs.store import JobState

# Jobs are few and executions many: a warm function keeps every job it serves and its busiest devices.
MAX_JOBS = 1_000
MAX_EXECUTIONS = 20_000


@dataclass(frozen=True)
class _KnownJob:
    state: JobState
    read_at: datetime


@dataclass(frozen=True)
class _KnownExecution:
    execution: Execution
    read_at: datetime


class KnownStates:
    """Jobs read at most once per `ttl` and process, and the executions this process last read or wrote.

    Of a job only what never changes after creation is relied on (its counter layout, timeout,
    rollout and abort settings, creation time); its status, sweep and expiry are checked again
    by the write's fence, and its open count is never taken from here (see ExecutionService.update).
    """

    def __init__(self, jobs: JobStates, ttl: timedelta, max_jobs: int = MAX_JOBS,
                 max_executions: int = MAX_EXECUTIONS) -> None:
        self._jobs = jobs
        self._job_cache: ReadCache[tuple[str, str], _KnownJob] = ReadCache(ttl, max_jobs)
        self._executions: ReadCache[tuple[str, str, str], _KnownExecution] = ReadCache(ttl, max_executions)
        self._enabled = ttl > timedelta(0)

    def job(self, tenant_id: str, job_id: str, now: datetime) -> JobState | None:
        """The job as last read within the ttl, else read now (None: no such job of the tenant)."""
        if not self._enabled:
            return None
        known = self._job_cache.get((tenant_id, job_id), now)
        if known is not None:
            return known.state
        state = self._jobs.batch_get(tenant_id, [job_id]).get(job_id)
        if state is not None:
            self._job_cache.put((tenant_id, job_id), _KnownJob(state, now))
        return state

    def execution(self, tenant_id: str, state: JobState, device_id: str, now: datetime) -> Execution:
        """The execution as this process last saw it, else as its job queued it (version 1, never touched)."""
        known = self._executions.get((tenant_id, state.job.job_id, device_id), now)
        if known is not None:
            return known.execution
        job = state.job
        return Execution(job_id=job.job_id, device_id=device_id, status=ExecutionStatus.QUEUED,
                         queued_at=job.created_at, updated_at=job.created_at)

    def saw(self, tenant_id: str, execution: Execution, state: JobState | None, now: datetime) -> None:
        """Remember an execution (and its job) just read consistently or written; a final one is forgotten."""
        if not self._enabled:
            return
        key = (tenant_id, execution.job_id, execution.device_id)
        if execution.status in FINAL or execution.held:
            self._executions.forget(key)
        else:
            self._executions.put(key, _KnownExecution(execution, now))
        if state is not None:
            self._job_cache.put((tenant_id, execution.job_id), _KnownJob(state, now))

    def forget(self, tenant_id: str, job_id: str, device_id: str) -> None:
        """Drop what a refused write proved stale: the execution and its job."""
        self._executions.forget((tenant_id, job_id, device_id))
        self._job_cache.forget((tenant_id, job_id))
