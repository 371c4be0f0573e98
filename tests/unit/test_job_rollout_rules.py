"""The pure rules of rollouts: exponential rate, abort criteria, deadlines, option validation."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from chalicelib.jobs.rollout import AbortCriterion, Rollout, abort_met, rate_now, release_due, timeout_at
from chalicelib.jobs.schemas import CreateJob, ExecutionStatus

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def exponential(base: int, factor: float, maximum: int, **criteria: int) -> Rollout:
    return Rollout.model_validate({"max_per_minute": maximum, "exponential": {
        "base_rate_per_minute": base, "increment_factor": factor, "rate_increase_criteria": criteria}})


def test_a_fixed_rate_is_the_maximum() -> None:
    assert rate_now(Rollout(max_per_minute=10), 10, 0, {"notified": 500}) == (10, 0)


def test_the_rate_grows_by_the_factor_each_time_the_criterion_is_reached_up_to_the_maximum() -> None:
    rollout = exponential(2, 2, 20, succeeded=5)
    assert rate_now(rollout, 2, 0, {"succeeded": 4}) == (2, 0)
    assert rate_now(rollout, 2, 0, {"succeeded": 5}) == (4, 5)
    assert rate_now(rollout, 2, 0, {"succeeded": 12}) == (8, 10)
    assert rate_now(rollout, 8, 10, {"succeeded": 100}) == (20, 20)


def test_a_small_factor_still_grows_the_rate_by_at_least_one() -> None:
    assert rate_now(exponential(1, 1.1, 5, notified=1), 1, 0, {"notified": 1}) == (2, 1)


def test_a_release_is_due_once_a_minute_has_passed() -> None:
    assert release_due(None, NOW)
    assert not release_due(NOW, NOW + timedelta(seconds=59))
    assert release_due(NOW, NOW + timedelta(minutes=1))


@pytest.mark.parametrize(("counts", "met"), [
    ({ExecutionStatus.SUCCEEDED: 7, ExecutionStatus.FAILED: 2}, False),  # 9 executed: below the minimum
    ({ExecutionStatus.SUCCEEDED: 8, ExecutionStatus.FAILED: 2}, True),  # 20 % of 10
    ({ExecutionStatus.SUCCEEDED: 9, ExecutionStatus.FAILED: 2}, False),  # 18 % of 11
    ({ExecutionStatus.SUCCEEDED: 8, ExecutionStatus.TIMED_OUT: 2}, False),  # another failure type
    ({ExecutionStatus.QUEUED: 100, ExecutionStatus.FAILED: 3}, False),  # queued ones are not executed
])
def test_abort_at_20_percent_failed_after_10_executed(counts: dict[ExecutionStatus, int], met: bool) -> None:
    criterion = AbortCriterion(failure_type="FAILED", min_executed=10, threshold_percentage=20)
    assert (abort_met([criterion], counts) is criterion) is met


def test_all_counts_every_failure_type() -> None:
    criterion = AbortCriterion(failure_type="ALL", min_executed=3, threshold_percentage=100)
    assert abort_met([criterion], {"FAILED": 1, "REJECTED": 1, "TIMED_OUT": 1}) is criterion


def test_the_earlier_of_the_in_progress_and_the_step_deadline_wins() -> None:
    started = NOW - timedelta(minutes=8)
    assert timeout_at(started, NOW, 10, None) == started + timedelta(minutes=10)
    assert timeout_at(started, NOW, 10, 5) == started + timedelta(minutes=10)
    assert timeout_at(started, NOW, 60, 5) == NOW + timedelta(minutes=5)
    assert timeout_at(started, NOW, None, None) is None


@pytest.mark.parametrize(("options", "field"), [
    ({"rollout": {"max_per_minute": 1001}}, ("rollout", "max_per_minute")),
    ({"rollout": {"max_per_minute": 5, "exponential": {"base_rate_per_minute": 1, "increment_factor": 6,
                                                         "rate_increase_criteria": {"notified": 1}}}},
     ("rollout", "exponential", "increment_factor")),
    ({"rollout": {"max_per_minute": 5, "exponential": {"base_rate_per_minute": 1, "increment_factor": 2,
                                                         "rate_increase_criteria": {"notified": 1, "succeeded": 1}}}},
     ("rollout", "exponential", "rate_increase_criteria")),
    ({"abort": []}, ("abort",)),
    ({"abort": [{"failure_type": "FAILED", "min_executed": 1, "threshold_percentage": 5, "action": "PAUSE"}]},
     ("abort", 0, "action")),
    ({"target_selection": "SOMETIMES"}, ("target_selection",)),
])
def test_bad_options_name_their_field(options: dict[str, object], field: tuple[object, ...]) -> None:
    with pytest.raises(ValidationError) as caught:
        CreateJob.model_validate({"document_type": "reboot", "target_all": True, **options})
    assert caught.value.errors()[0]["loc"] == field


@pytest.mark.parametrize(("threshold", "executed", "failed"), [(16.1, 1000, 161), (32.7, 1000, 327), (64.9, 1000, 649)])
def test_abort_fires_at_exactly_the_threshold_whatever_the_float_rounding(threshold: float, executed: int,
                                                                         failed: int) -> None:
    criterion = AbortCriterion(failure_type="FAILED", min_executed=1, threshold_percentage=threshold)
    assert abort_met([criterion], {"FAILED": failed, "SUCCEEDED": executed - failed}) == criterion
    assert abort_met([criterion], {"FAILED": failed - 1, "SUCCEEDED": executed - failed + 1}) is None


@pytest.mark.parametrize("extra", [
    {"abort": [{"failure_type": "FAILED", "min_executed": 1, "threshold_percentage": True}]},
    {"abort": [{"failure_type": "FAILED", "min_executed": 1, "threshold_percentage": "50"}]},
    {"rollout": {"max_per_minute": 9, "exponential": {"base_rate_per_minute": 1, "increment_factor": "2",
                                                      "rate_increase_criteria": {"notified": 1}}}},
])
def test_percentages_and_factors_are_numbers_not_strings_or_booleans(extra: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CreateJob.model_validate({"document_type": "reboot", "target_all": True, **extra})


def test_an_integer_percentage_and_factor_are_still_accepted() -> None:
    job = CreateJob.model_validate({"document_type": "reboot", "target_all": True,
                                    "abort": [{"failure_type": "ALL", "min_executed": 1, "threshold_percentage": 50}],
                                    "rollout": {"max_per_minute": 9, "exponential": {
                                        "base_rate_per_minute": 1, "increment_factor": 2,
                                        "rate_increase_criteria": {"notified": 1}}}})
    assert job.abort is not None and job.abort[0].threshold_percentage == 50


@pytest.mark.parametrize("step", ["5", True, 5.5, 0, 10081])
def test_an_aws_format_step_timeout_is_an_integer_within_a_week(step: object) -> None:
    from chalicelib.aws_iot.jobs_schemas import StartNextRequest, UpdateRequest

    with pytest.raises(ValidationError):
        UpdateRequest.model_validate({"status": "IN_PROGRESS", "stepTimeoutInMinutes": step})
    with pytest.raises(ValidationError):
        StartNextRequest.model_validate({"stepTimeoutInMinutes": step})
