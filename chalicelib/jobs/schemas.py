"""Jobs and job executions: statuses, request and record shapes (the rules are in rules.py)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from chalicelib.core.schema import JsonObject, PageQuery, Record, Request, ResourceId, StrictBool, StrictInt
from chalicelib.jobs.rollout import AbortCriterion, AbortList, Rollout, RolloutProgress, TargetSelection, TimeoutMinutes

TOKEN_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
DocumentType = Annotated[str, StringConstraints(pattern=TOKEN_PATTERN)]
ClientToken = Annotated[str, StringConstraints(pattern=TOKEN_PATTERN)]
# AWS IoT's statusDetails bounds: at most 10 entries, short keys, values up to 1 KB.
DetailKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9:_.-]{1,128}$")]
DetailValue = Annotated[str, StringConstraints(max_length=1024)]
MAX_DETAILS = 10
TargetType = Literal["device", "group", "all"]


class JobStatus(StrEnum):
    """Lifecycle of a job."""

    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"


class ExecutionStatus(StrEnum):
    """Lifecycle of one device's execution of a job."""

    QUEUED = "QUEUED"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"
    TIMED_OUT = "TIMED_OUT"


class SweepKind(StrEnum):
    """A bulk change of a job's executions, run in resumable chunks."""

    CANCEL = "cancel"
    EXPIRE = "expire"


def _bounded_details(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is not None and len(value) > MAX_DETAILS:
        raise ValueError(f"at most {MAX_DETAILS} entries")
    return value


class CreateJob(Request):
    """POST /customer/jobs: exactly one target must be given."""

    document_type: DocumentType
    document_params: JsonObject = Field(default_factory=dict)
    target_device_id: ResourceId | None = None
    target_group_id: ResourceId | None = None
    target_all: StrictBool = False
    expires_in_hours: StrictInt | None = Field(default=None, ge=1)
    client_token: ClientToken | None = None
    rollout: Rollout | None = None
    abort: AbortList | None = None
    in_progress_timeout_minutes: TimeoutMinutes | None = None
    target_selection: TargetSelection = "SNAPSHOT"

    def targets_given(self) -> list[str]:
        """Names of the target fields the request sets."""
        given = {"target_device_id": self.target_device_id is not None,
                 "target_group_id": self.target_group_id is not None, "target_all": self.target_all}
        return [name for name, present in given.items() if present]

    def fingerprint_source(self) -> dict[str, Any]:
        """What makes two requests 'the same' for client_token replays."""
        return self.model_dump(mode="json", exclude={"client_token"})


class UpdateExecution(Request):
    """PUT /device/v1/jobs/{job_id}/execution and the MQTT `jobs/{job_id}/update` payload."""

    status: ExecutionStatus
    status_details: dict[DetailKey, DetailValue] | None = None
    expected_version: StrictInt | None = Field(default=None, ge=1)
    # AWS `stepTimeoutInMinutes`: this step must end (another update or a final status) in time.
    step_timeout_minutes: TimeoutMinutes | None = None

    _details = field_validator("status_details")(_bounded_details)


class JobListQuery(PageQuery):
    """Query parameters of GET /customer/jobs: the page (with its bounds) and a status; others are an error."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    status: JobStatus | None = None


class Job(Record):
    """A job as operators see it; `counts` has one entry per execution status."""

    tenant_id: str
    job_id: str
    document_type: str
    document_params: JsonObject = Field(default_factory=dict)
    target_type: TargetType
    target_id: str | None = None
    status: JobStatus
    execution_count: int
    counts: dict[ExecutionStatus, int]
    created_at: datetime
    created_by: str | None = None
    expires_at: datetime
    completed_at: datetime | None = None
    canceled_at: datetime | None = None
    client_token: str | None = None
    sweep_pending: bool = False
    target_selection: TargetSelection = "SNAPSHOT"
    rollout: Rollout | None = None
    abort: list[AbortCriterion] | None = None
    in_progress_timeout_minutes: int | None = None
    rollout_progress: RolloutProgress | None = None
    aborted: bool = False
    abort_criterion: AbortCriterion | None = None
    reason: str | None = None


class Execution(Record):
    """One device's execution of a job."""

    job_id: str
    device_id: str
    status: ExecutionStatus
    status_details: dict[str, str] = Field(default_factory=dict)
    execution_number: int = 1
    version_number: int = 1
    queued_at: datetime
    started_at: datetime | None = None
    updated_at: datetime
    held: bool = False
    timeout_at: datetime | None = None


class PendingJob(Record):
    """An entry of a device's pending list and of its `jobs/notify` message."""

    job_id: str
    document: JsonObject
    status: ExecutionStatus
    execution_number: int
    version_number: int
    queued_at: datetime


def document(job: Job) -> dict[str, Any]:
    """The job document a device receives."""
    return {"type": job.document_type, "params": job.document_params}
