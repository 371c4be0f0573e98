"""What ExecutionService needs from storage: the repositories' shape, so tests can give it fakes."""
from __future__ import annotations

from datetime import datetime
from typing import Protocol

from chalicelib.jobs.execution_store import PendingEntry, WriteOutcome
from chalicelib.jobs.schemas import Execution, ExecutionStatus
from chalicelib.jobs.store import JobState


class JobStates(Protocol):
    """Jobs read with the bookkeeping execution writes condition on."""

    def batch_get(self, tenant_id: str, job_ids: list[str]) -> dict[str, JobState]:
        """Jobs of the tenant among these ids."""
        ...


class ExecutionStore(Protocol):
    """Executions read with their job and moved with the job's counters in one conditional write."""

    def find_with_job(self, tenant_id: str, job_id: str, device_id: str,
                      with_opens: bool = True) -> tuple[Execution | None, JobState | None]:
        """The execution and its job, read together; without `with_opens` the job's open count leaves out its
        counter shards (enough for any change but a final one)."""
        ...

    def pending(self, tenant_id: str, device_id: str, limit: int) -> list[PendingEntry]:
        """A device's open executions, oldest first."""
        ...

    def transition(self, state: JobState, current: Execution, target: ExecutionStatus,
                   details: dict[str, str] | None, now: datetime, completes_job: bool,
                   deadline: tuple[int, datetime] | None = None, assumed: bool = False) -> WriteOutcome:
        """Move one execution and the job's counters; the outcome says which condition failed, if any.
        With `assumed`, `current` was not read: the write also requires every field it reports."""
        ...
