"""Rollout options of a job (AWS IoT's rollout, abort and timeout configs) and their pure rules."""
from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, Strict, model_validator

from chalicelib.core.schema import Record, Request, StrictInt

if TYPE_CHECKING:  # schemas imports this module
    from chalicelib.jobs.schemas import ExecutionStatus

# AWS IoT's bounds: at most 1,000 notified per minute, factors 1.1 to 5, timeouts up to 7 days.
MAX_RATE = 1000
MAX_TIMEOUT_MINUTES = 7 * 24 * 60
# Strict: a JSON number (int or float), never a string or a boolean.
Percentage = Annotated[float, Strict(), Field(gt=0, le=100)]
Factor = Annotated[float, Strict(), Field(ge=1.1, le=5)]
FailureType = Literal["FAILED", "REJECTED", "TIMED_OUT", "ALL"]
TargetSelection = Literal["SNAPSHOT", "CONTINUOUS"]
TimeoutMinutes = Annotated[int, Strict(), Field(ge=1, le=MAX_TIMEOUT_MINUTES)]
ReleaseCriterion = Literal["succeeded", "notified"]
# Execution statuses by name (schemas' StrEnum keys compare equal to these).
FAILURES: dict[str, frozenset[str]] = {
    "FAILED": frozenset({"FAILED"}), "REJECTED": frozenset({"REJECTED"}), "TIMED_OUT": frozenset({"TIMED_OUT"}),
    "ALL": frozenset({"FAILED", "REJECTED", "TIMED_OUT"}),
}
EXECUTED: frozenset[str] = frozenset({"SUCCEEDED", "FAILED", "REJECTED", "TIMED_OUT"})


class RateIncreaseCriteria(Request):
    """When the exponential rate grows: after this many more devices succeeded, or were notified."""

    succeeded: StrictInt | None = Field(default=None, ge=1, le=1_000_000)
    notified: StrictInt | None = Field(default=None, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _exactly_one(self) -> RateIncreaseCriteria:
        if (self.succeeded is None) == (self.notified is None):
            raise ValueError("exactly one of succeeded, notified is required")
        return self

    def criterion(self) -> tuple[ReleaseCriterion, int]:
        """Which count drives the increase, and by how many devices."""
        if self.succeeded is not None:
            return "succeeded", self.succeeded
        assert self.notified is not None
        return "notified", self.notified


class ExponentialRate(Request):
    """AWS `exponentialRate`: start at the base rate, multiply by the factor each time the criteria are met."""

    base_rate_per_minute: StrictInt = Field(ge=1, le=MAX_RATE)
    increment_factor: Factor
    rate_increase_criteria: RateIncreaseCriteria


class Rollout(Request):
    """AWS `jobExecutionsRolloutConfig`: how many devices are notified per minute."""

    max_per_minute: StrictInt = Field(ge=1, le=MAX_RATE)
    exponential: ExponentialRate | None = None

    @model_validator(mode="after")
    def _base_within_max(self) -> Rollout:
        if self.exponential is not None and self.exponential.base_rate_per_minute > self.max_per_minute:
            raise ValueError("exponential.base_rate_per_minute must not exceed max_per_minute")
        return self

    def first_rate(self) -> int:
        """The rate of the first minute."""
        return self.exponential.base_rate_per_minute if self.exponential else self.max_per_minute


class AbortCriterion(Request):
    """AWS `abortConfig.criteriaList` entry: cancel once this share of executed devices failed so."""

    failure_type: FailureType
    min_executed: StrictInt = Field(ge=1, le=1_000_000)
    threshold_percentage: Percentage
    action: Literal["CANCEL"] = "CANCEL"


AbortList = Annotated[list[AbortCriterion], Field(min_length=1, max_length=4)]


class RolloutProgress(Record):
    """What the job view shows of a rate-limited rollout."""

    held: int
    released: int
    rate_per_minute: int
    released_at: datetime | None = None


def rate_now(rollout: Rollout, rate: int, mark: int, counts: dict[str, int]) -> tuple[int, int]:
    """The rate after applying the exponential increases earned since `mark` (rate, new mark)."""
    exp = rollout.exponential
    if exp is None:
        return rollout.max_per_minute, mark
    kind, step = exp.rate_increase_criteria.criterion()
    reached = counts.get(kind, 0)
    while reached - mark >= step and rate < rollout.max_per_minute:
        rate = min(rollout.max_per_minute, max(rate + 1, math.floor(rate * exp.increment_factor)))
        mark += step
    return rate, mark


def release_due(released_at: datetime | None, now: datetime) -> bool:
    """Whether a new minute of releases has begun."""
    return released_at is None or now >= released_at + timedelta(minutes=1)


def abort_met(criteria: list[AbortCriterion],
              counts: Mapping[str, int] | Mapping[ExecutionStatus, int]) -> AbortCriterion | None:
    """The first criterion the counts meet: enough executed, and failures at or above the threshold."""
    by_name = {str(k): n for k, n in counts.items()}
    executed = sum(by_name.get(s, 0) for s in EXECUTED)
    for c in criteria:
        failed = sum(by_name.get(s, 0) for s in FAILURES[c.failure_type])
        # In decimal: 16.1 * 1000 in binary floats is above 16100, so 161 of 1000 would not abort.
        if executed >= c.min_executed and failed * 100 >= Decimal(repr(c.threshold_percentage)) * executed:
            return c
    return None


def abort_reason(c: AbortCriterion) -> str:
    """The reason recorded on the job and its rejected executions."""
    return (f"job aborted: {c.failure_type} reached {c.threshold_percentage:g}% "
            f"after at least {c.min_executed} executed")


def timeout_at(started_at: datetime | None, now: datetime, in_progress_min: int | None,
               step_min: int | None) -> datetime | None:
    """When an IN_PROGRESS execution times out: the earlier of the job's in-progress and the step timer."""
    deadlines = []
    if in_progress_min is not None:
        deadlines.append((started_at or now) + timedelta(minutes=in_progress_min))
    if step_min is not None:
        deadlines.append(now + timedelta(minutes=step_min))
    return min(deadlines) if deadlines else None
