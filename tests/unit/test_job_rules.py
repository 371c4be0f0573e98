"""The job execution state machine and job rules, as data and pure functions."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from chalicelib.jobs.rules import DEVICE_TRANSITIONS, FINAL, OPEN, SWEEPS, counter_deltas, device_may_move, refusal
from chalicelib.jobs.schemas import CreateJob, ExecutionStatus, JobStatus, SweepKind, UpdateExecution

E = ExecutionStatus
NOW = datetime(2030, 1, 1, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def test_terminal_statuses_are_exactly_the_four_final_ones() -> None:
    assert {E.SUCCEEDED, E.FAILED, E.REJECTED, E.TIMED_OUT} == FINAL
    assert {E.QUEUED, E.IN_PROGRESS} == OPEN


def test_queued_may_be_claimed_or_finished_directly() -> None:
    assert DEVICE_TRANSITIONS[E.QUEUED] == {E.IN_PROGRESS, E.SUCCEEDED, E.FAILED, E.REJECTED}


def test_in_progress_may_repeat_or_finish_but_never_return_to_queued() -> None:
    assert device_may_move(E.IN_PROGRESS, E.IN_PROGRESS)
    assert not device_may_move(E.IN_PROGRESS, E.QUEUED)
    assert {t for t in E if device_may_move(E.IN_PROGRESS, t)} == {E.IN_PROGRESS} | (FINAL - {E.TIMED_OUT})


@pytest.mark.parametrize("final", sorted(FINAL))
def test_final_statuses_have_no_way_out(final: ExecutionStatus) -> None:
    assert not any(device_may_move(final, t) for t in E)


def test_devices_never_set_queued_or_timed_out() -> None:
    for source in E:
        assert not device_may_move(source, E.QUEUED)
        assert not device_may_move(source, E.TIMED_OUT)


def test_cancel_rejects_queued_only_and_expiry_times_out_all_open_work() -> None:
    assert SWEEPS[SweepKind.CANCEL][:2] == (frozenset({E.QUEUED}), E.REJECTED)
    assert SWEEPS[SweepKind.EXPIRE][:2] == (OPEN, E.TIMED_OUT)


def test_counter_deltas_move_counts_to_the_target_and_cancel_out() -> None:
    assert counter_deltas({E.QUEUED: 3, E.IN_PROGRESS: 2}, E.TIMED_OUT) == {
        E.QUEUED: -3, E.IN_PROGRESS: -2, E.TIMED_OUT: 5}
    assert counter_deltas({E.IN_PROGRESS: 1}, E.IN_PROGRESS) == {}
    assert counter_deltas({E.QUEUED: 0}, E.REJECTED) == {}


def test_a_live_job_accepts_work_in_any_open_status() -> None:
    for current in OPEN:
        assert refusal(JobStatus.IN_PROGRESS, None, LATER, current, NOW) is None


def test_a_canceled_job_refuses_queued_work_but_lets_in_progress_finish() -> None:
    assert refusal(JobStatus.CANCELED, SweepKind.CANCEL, LATER, E.QUEUED, NOW) == "job is CANCELED"
    assert refusal(JobStatus.CANCELED, None, LATER, E.QUEUED, NOW) == "job is CANCELED"
    assert refusal(JobStatus.CANCELED, SweepKind.CANCEL, LATER, E.IN_PROGRESS, NOW) is None


def test_an_expired_or_expiring_job_refuses_everything() -> None:
    for current in OPEN:
        assert refusal(JobStatus.IN_PROGRESS, None, NOW, current, NOW) == "job has expired"
        assert refusal(JobStatus.IN_PROGRESS, SweepKind.EXPIRE, LATER, current, NOW) == "job has expired"


def test_a_job_needs_exactly_one_target() -> None:
    base = {"document_type": "reboot"}
    assert CreateJob.model_validate(base).targets_given() == []
    assert CreateJob.model_validate({**base, "target_all": True}).targets_given() == ["target_all"]
    both = CreateJob.model_validate({**base, "target_device_id": "d", "target_group_id": "g"})
    assert both.targets_given() == ["target_device_id", "target_group_id"]


def test_the_client_token_is_not_part_of_the_request_fingerprint() -> None:
    one = CreateJob.model_validate({"document_type": "x", "target_all": True, "client_token": "a"})
    two = CreateJob.model_validate({"document_type": "x", "target_all": True, "client_token": "b"})
    assert one.fingerprint_source() == two.fingerprint_source()


def test_status_details_are_a_bounded_string_map() -> None:
    ok = UpdateExecution.model_validate({"status": "IN_PROGRESS", "status_details": {"step": "1/3"}})
    assert ok.status_details == {"step": "1/3"}
    for details in ({"k": 1}, {"bad key": "v"}, {"k": "v" * 1025}, {f"k{i}": "v" for i in range(11)}):
        with pytest.raises(ValidationError):
            UpdateExecution.model_validate({"status": "IN_PROGRESS", "status_details": details})
