"""What the execution store hands back besides records: pending entries, swept executions, write outcomes."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from chalicelib.jobs.schemas import Execution, ExecutionStatus


@dataclass(frozen=True)
class PendingEntry:
    """An open execution as the pending index has it."""

    job_id: str
    status: ExecutionStatus
    execution_number: int
    version_number: int
    queued_at: datetime


@dataclass(frozen=True)
class SweptExecution:
    """An execution read by a sweep, with what an earlier run of the same sweep left on it."""

    execution: Execution
    swept_by: str | None
    prev_status: ExecutionStatus | None
    joined: bool = False


class WriteOutcome(enum.Enum):
    """How a conditional execution update ended."""

    DONE = "done"
    EXECUTION_CHANGED = "execution_changed"
    JOB_CHANGED = "job_changed"
    CONTENDED = "contended"
