"""In-memory fakes of the ports of ExecutionService (JobStates, ExecutionStore) with the real conditions.

A transition checks what the DynamoDB transaction checks: the execution's status and version
as read, the job still accepting this device's change, and the open counter when the last
finisher completes the job.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chalicelib.jobs.execution_store import PendingEntry, WriteOutcome
from chalicelib.jobs.ports import ExecutionStore, JobStates
from chalicelib.jobs.rules import FINAL, OPEN, refusal
from chalicelib.jobs.schemas import Execution, ExecutionStatus, Job, JobStatus, SweepKind
from chalicelib.jobs.store import JobState


class FakeJobs:
    """Jobs and their executions in memory; implements both ports."""

    def __init__(self) -> None:
        self.states: dict[tuple[str, str], JobState] = {}
        self.executions: dict[tuple[str, str, str], Execution] = {}
        self.writes = 0
        self.reads = 0
        # Whether services built on this fake write on what they know (a test's choice, not the fake's).
        self.known = False

    def add(self, job: Job, device_ids: list[str], sweep: SweepKind | None = None) -> None:
        counts = {s: (len(device_ids) if s is ExecutionStatus.QUEUED else 0) for s in ExecutionStatus}
        job = job.model_copy(update={"execution_count": len(device_ids), "counts": counts})
        self.states[(job.tenant_id, job.job_id)] = JobState(job, len(device_ids), sweep, None, None, 0)
        for device_id in device_ids:
            self.executions[(job.tenant_id, job.job_id, device_id)] = Execution(
                job_id=job.job_id, device_id=device_id, status=ExecutionStatus.QUEUED,
                queued_at=job.created_at, updated_at=job.created_at)

    def job(self, tenant_id: str, job_id: str) -> Job:
        return self.states[(tenant_id, job_id)].job

    def batch_get(self, tenant_id: str, job_ids: list[str]) -> dict[str, JobState]:
        return {j: self.states[(tenant_id, j)] for j in job_ids if (tenant_id, j) in self.states}

    def find_with_job(self, tenant_id: str, job_id: str, device_id: str,
                      with_opens: bool = True) -> tuple[Execution | None, JobState | None]:
        self.reads += 1
        return self.executions.get((tenant_id, job_id, device_id)), self.states.get((tenant_id, job_id))

    def pending(self, tenant_id: str, device_id: str, limit: int) -> list[PendingEntry]:
        open_ = [e for (t, _, d), e in self.executions.items() if (t, d) == (tenant_id, device_id) and e.status in OPEN]
        return [PendingEntry(e.job_id, e.status, e.execution_number, e.version_number, e.queued_at)
                for e in sorted(open_, key=lambda e: e.queued_at)[:limit]]

    def transition(self, state: JobState, current: Execution, target: ExecutionStatus,
                   details: dict[str, str] | None, now: datetime, completes_job: bool,
                   deadline: tuple[int, datetime] | None = None, assumed: bool = False) -> WriteOutcome:
        job_key = (state.job.tenant_id, state.job.job_id)
        key = (*job_key, current.device_id)
        stored = self.executions.get(key)
        if stored is None or (stored.status, stored.version_number) != (current.status, current.version_number):
            return WriteOutcome.EXECUTION_CHANGED
        reported = ("execution_number", "queued_at", "started_at", "status_details")
        if assumed and any(getattr(stored, f) != getattr(current, f) for f in reported):
            return WriteOutcome.EXECUTION_CHANGED
        self.writes += 1
        live = self.states[job_key]
        final = target in FINAL
        if refusal(live.job.status, live.sweep, live.job.expires_at, current.status, now):
            return WriteOutcome.JOB_CHANGED
        if final and state.job.status is JobStatus.IN_PROGRESS and (
                (completes_job and (live.job.status is not JobStatus.IN_PROGRESS or live.open_count != 1))
                or (not completes_job and live.open_count <= 1)):
            return WriteOutcome.JOB_CHANGED
        started = now if current.status is ExecutionStatus.QUEUED and target is ExecutionStatus.IN_PROGRESS \
            else stored.started_at
        self.executions[key] = stored.model_copy(update={
            "status": target, "version_number": stored.version_number + 1, "updated_at": now, "started_at": started,
            "status_details": details if details is not None else stored.status_details})
        counts = dict(live.job.counts)
        if target is not current.status:
            counts[current.status] -= 1
            counts[target] += 1
        update: dict[str, object] = {"counts": counts}
        if final and completes_job and state.job.status is JobStatus.IN_PROGRESS:
            update |= {"status": JobStatus.COMPLETED, "completed_at": now}
        self.states[job_key] = replace(live, job=live.job.model_copy(update=update),
                                       open_count=live.open_count - (1 if final else 0))
        return WriteOutcome.DONE


# The fake is the ports: mypy checks it against the Protocols here, not only at a call site.
_jobs: type[JobStates] = FakeJobs
_executions: type[ExecutionStore] = FakeJobs
