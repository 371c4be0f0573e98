"""The overview's answers and the query of the settled-commands listing behind its numbers."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.core.schema import Record


class Outcome(StrEnum):
    """What the overview counts of a settled command; `publish_failed` overlaps the statuses."""

    DELIVERED = "delivered"
    MISSED = "missed"
    EXPIRED = "expired"
    # Final without the broker ever taking one of its publishes (it was down, or refused it).
    PUBLISH_FAILED = "publish_failed"


class DevicePresence(Record):
    """The tenant's devices by last presence; each bucket names the devices list filter behind it."""

    total: int
    online: int = Field(description="heard from within the away window: connected now")
    offline: int
    stale: int = Field(description="not heard from within the twin's stale window (their twins read stale)")
    buckets: dict[str, int] = Field(description="online, hour, day, week, older, never: disjoint, summing to total")
    truncated: bool = Field(description="the fleet is larger than one overview reads; counts are a lower bound")


class LatencyBucket(Record):
    """How many ACKs took at most `le_ms` (and more than the bucket before); None is the overflow."""

    le_ms: int | None
    count: int


class LatencySummary(Record):
    """ACK latency (first publish to ACK) of the commands delivered in the window."""

    count: int
    avg_ms: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    max_ms: float | None = None
    histogram: list[LatencyBucket]


class HourOutcomes(Record):
    """Outcomes of the commands that became final in one hour."""

    hour: datetime
    delivered: int = 0
    missed: int = 0
    expired: int = 0


class CommandOutcomes(Record):
    """Commands that became final in the window, by outcome, per hour, and their ACK latency."""

    since: datetime
    window_hours: int
    outcomes: dict[Outcome, int]
    hourly: list[HourOutcomes]
    ack_latency: LatencySummary
    truncated: bool = Field(description="more commands settled than one overview reads; counts are a lower bound")


class JobInProgress(Record):
    """A job in progress and its executions per status."""

    job_id: str
    document_type: str
    target_type: str
    target_id: str | None = None
    execution_count: int
    counts: dict[str, int]
    created_at: datetime


class JobsInProgress(Record):
    """The newest jobs in progress (one page of the jobs list filtered IN_PROGRESS)."""

    count: int
    more: bool = Field(description="more jobs are in progress than listed here")
    jobs: list[JobInProgress]


class TwinSummary(Record):
    """Twins waiting for their device (pending) and twins of devices not heard from (stale)."""

    pending: int
    stale: int
    truncated: bool


class Overview(Record):
    """GET /customer/overview."""

    generated_at: datetime
    devices: DevicePresence
    commands: CommandOutcomes
    jobs: JobsInProgress
    twins: TwinSummary
    requests: int = Field(description="DynamoDB requests this answer cost")


class SettledCommand(Record):
    """A command that became final in the window, as the settled index keeps it."""

    command_id: str
    device_id: str
    command_type: str
    status: str
    created_at: datetime | None = None
    published_at: datetime | None = None
    acked_at: datetime | None = None
    settled_at: datetime
    publish_attempts: int = 0
    ack_latency_ms: float | None = None


class SettledQuery(BaseModel):
    """GET /customer/commands: the commands behind the overview's outcome numbers."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    outcome: Outcome | None = Field(default=None, description="one outcome; all of them when absent")
    hours: int = Field(default=24, ge=1, le=24 * 7, description="the window: settled in the last `hours`")
