"""AWS IoT jobs payloads (`$aws/things/{thing}/jobs/...`), built from the project's executions.

Pure: the device-side requests are checked here and the answers and events shaped the
way AWS IoT's jobs service shapes them (epoch-second timestamps, camelCase names).
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, Strict, StringConstraints

from chalicelib.core.schema import Record, StrictBool, StrictInt
from chalicelib.jobs.schemas import DetailKey, DetailValue, Execution, ExecutionStatus, PendingJob

Document = dict[str, Any]
ClientToken = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# AWS: a step timeout is 1 to 10080 minutes (one week); the per-minute function enforces it.
StepTimeout = Annotated[int, Strict(), Field(ge=1, le=10080)]


class _AwsRequest(Record):
    clientToken: ClientToken | None = None


class DescribeRequest(_AwsRequest):
    """`jobs/{jobId}/get`: includeJobDocument defaults to true."""

    executionNumber: StrictInt | None = Field(default=None, ge=1)
    includeJobDocument: StrictBool = True


class StartNextRequest(_AwsRequest):
    """`jobs/start-next`."""

    statusDetails: dict[DetailKey, DetailValue] | None = None
    stepTimeoutInMinutes: StepTimeout | None = None


class UpdateRequest(_AwsRequest):
    """`jobs/{jobId}/update`."""

    status: ExecutionStatus
    statusDetails: dict[DetailKey, DetailValue] | None = None
    expectedVersion: StrictInt | None = Field(default=None, ge=1)
    executionNumber: StrictInt | None = Field(default=None, ge=1)
    includeJobExecutionState: StrictBool = False
    includeJobDocument: StrictBool = False
    stepTimeoutInMinutes: StepTimeout | None = None


def epoch(value: datetime | None) -> int | None:
    """Epoch seconds, or None."""
    return int(value.timestamp()) if value is not None else None


def _drop_none(payload: Document) -> Document:
    return {k: v for k, v in payload.items() if v is not None}


def queued_execution(device_id: str, entry: PendingJob) -> Execution:
    """The full execution of a still-QUEUED pending entry (nothing has changed it since it was queued)."""
    return Execution(job_id=entry.job_id, device_id=device_id, status=entry.status,
                     execution_number=entry.execution_number, version_number=entry.version_number,
                     queued_at=entry.queued_at, updated_at=entry.queued_at)


def execution_data(thing: str, execution: Execution, document: Document | None) -> Document:
    """AWS's JobExecutionData; the job document only when asked for."""
    return _drop_none({
        "jobId": execution.job_id, "thingName": thing, "jobDocument": document,
        "status": execution.status.value, "statusDetails": execution.status_details,
        "queuedAt": epoch(execution.queued_at), "startedAt": epoch(execution.started_at),
        "lastUpdatedAt": epoch(execution.updated_at), "versionNumber": execution.version_number,
        "executionNumber": execution.execution_number,
    })


def execution_state(execution: Document | Execution) -> Document:
    """AWS's JobExecutionState of an execution (a record or its JSON form)."""
    data = execution.model_dump(mode="json") if isinstance(execution, Execution) else execution
    return {"status": data["status"], "statusDetails": data.get("status_details") or {},
            "versionNumber": data["version_number"]}


def summary(execution: Execution) -> Document:
    """AWS's JobExecutionSummary."""
    return _drop_none({
        "jobId": execution.job_id, "queuedAt": epoch(execution.queued_at), "startedAt": epoch(execution.started_at),
        "lastUpdatedAt": epoch(execution.updated_at), "versionNumber": execution.version_number,
        "executionNumber": execution.execution_number,
    })


def next_pending(pending: list[PendingJob]) -> PendingJob | None:
    """AWS's `$next`: the oldest IN_PROGRESS execution, else the oldest QUEUED one."""
    started = [p for p in pending if p.status is ExecutionStatus.IN_PROGRESS]
    queued = [p for p in pending if p.status is ExecutionStatus.QUEUED]
    first = started or queued
    return first[0] if first else None


def notify_event(executions: list[Execution], now: int) -> Document:
    """`jobs/notify`: the pending list by status (sent when an execution joins or leaves it)."""
    jobs: dict[str, list[Document]] = {}
    for status in (ExecutionStatus.QUEUED, ExecutionStatus.IN_PROGRESS):
        found = [summary(e) for e in executions if e.status is status]
        if found:
            jobs[status.value] = found
    return {"timestamp": now, "jobs": jobs}


def notify_next_event(thing: str, execution: Execution | None, document: Document | None, now: int) -> Document:
    """`jobs/notify-next`: the next pending execution with its document, or none left."""
    if execution is None:
        return {"timestamp": now}
    return {"timestamp": now, "execution": execution_data(thing, execution, document)}


def error(code: str, message: str, now: int, token: str | None, state: Document | None = None) -> Document:
    """AWS's jobs ErrorResponse."""
    return _drop_none({"code": code, "message": message, "timestamp": now, "clientToken": token,
                       "executionState": state})
