"""The job rules as data: the execution state machine, what each sweep does, and when a job refuses a device."""
from __future__ import annotations

from datetime import datetime

from chalicelib.jobs.schemas import ExecutionStatus, JobStatus, SweepKind

E = ExecutionStatus
OPEN: frozenset[ExecutionStatus] = frozenset({E.QUEUED, E.IN_PROGRESS})
FINAL: frozenset[ExecutionStatus] = frozenset(set(E) - OPEN)

# The moves a device may make, by current status. Final statuses have no way out.
DEVICE_TRANSITIONS: dict[ExecutionStatus, frozenset[ExecutionStatus]] = {
    E.QUEUED: frozenset({E.IN_PROGRESS, E.SUCCEEDED, E.FAILED, E.REJECTED}),
    E.IN_PROGRESS: frozenset({E.IN_PROGRESS, E.SUCCEEDED, E.FAILED, E.REJECTED}),
}

# What each bulk sweep does: which executions it touches and the status they end in.
SWEEPS: dict[SweepKind, tuple[frozenset[ExecutionStatus], ExecutionStatus, str]] = {
    SweepKind.CANCEL: (frozenset({E.QUEUED}), E.REJECTED, "job canceled"),
    SweepKind.EXPIRE: (OPEN, E.TIMED_OUT, "job expired"),
}


def device_may_move(current: ExecutionStatus, target: ExecutionStatus) -> bool:
    """Whether the transition table allows a device to move `current` to `target`."""
    return target in DEVICE_TRANSITIONS.get(current, frozenset())


def refusal(job_status: JobStatus, sweep: SweepKind | None, expires_at: datetime,
            current: ExecutionStatus, now: datetime) -> str | None:
    """Why the job refuses a device's change to an execution that is `current`; None if it accepts.

    Queued work needs a live job. In-progress work may also finish on a canceled job
    (cancel only rejects what is queued), but not once the job has expired. The
    storage layer repeats this as the condition of the write.
    """
    if expires_at <= now or sweep is SweepKind.EXPIRE:
        return "job has expired"
    if current is E.QUEUED and (job_status is not JobStatus.IN_PROGRESS or sweep is not None):
        return f"job is {job_status.value}"
    if job_status is JobStatus.COMPLETED:
        return "job is COMPLETED"
    return None


def counter_deltas(moves: dict[ExecutionStatus, int], target: ExecutionStatus) -> dict[ExecutionStatus, int]:
    """Per-status counter changes when `moves[s]` executions go from status s to `target`."""
    deltas: dict[ExecutionStatus, int] = {}
    for source, n in moves.items():
        if n and source is not target:
            deltas[source] = deltas.get(source, 0) - n
            deltas[target] = deltas.get(target, 0) + n
    return {s: d for s, d in deltas.items() if d}
