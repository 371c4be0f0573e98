"""ExecutionService (a device's side of jobs) over in-memory ports: the transition table at work.

The fake stands in for the jobs and executions tables (our ports); the service, the transition
table and the job's refusal rules under test are the real ones.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.errors import Conflict, NotFound
from chalicelib.jobs.executions import ExecutionService
from chalicelib.jobs.known import KnownStates
from chalicelib.jobs.schemas import Execution, ExecutionStatus, Job, JobStatus, SweepKind, UpdateExecution
from tests.support import Clock
from tests.unit.job_fakes import FakeJobs

T = "t1"
T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
Q, P, S, F, R = (ExecutionStatus.QUEUED, ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED,
                 ExecutionStatus.FAILED, ExecutionStatus.REJECTED)


def _job(job_id: str, minutes: int = 0, status: JobStatus = JobStatus.IN_PROGRESS) -> Job:
    created = T0 + timedelta(minutes=minutes)
    return Job(tenant_id=T, job_id=job_id, document_type="reboot", document_params={"job": job_id},
               target_type="group", target_id="g1", status=status, execution_count=0, counts={},
               created_at=created, expires_at=created + timedelta(hours=24))


def _service(jobs: FakeJobs, clock: Clock, updates: list[tuple[Execution, Execution]] | None = None
             ) -> ExecutionService:
    def listen(tenant_id: str, device_id: str, before: Execution, after: Execution) -> None:
        if updates is not None:
            updates.append((before, after))

    known = KnownStates(jobs, timedelta(seconds=60)) if jobs.known else None
    return ExecutionService(jobs, jobs, clock=clock, sleep=lambda s: None, on_updated=listen, known=known)


def _move(service: ExecutionService, device_id: str, status: ExecutionStatus, job_id: str = "j1",
          **fields: object) -> Execution:
    return service.update(T, device_id, job_id, UpdateExecution.model_validate({"status": status, **fields}))


@pytest.fixture(params=[False, True], ids=["read", "known"])
def world(request: pytest.FixtureRequest) -> tuple[FakeJobs, Clock]:
    """Every test twice: reading before each write, and writing on what the service knows (known.py)."""
    jobs = FakeJobs()
    jobs.known = request.param
    jobs.add(_job("j1"), ["d1", "d2"])
    return jobs, Clock(T0 + timedelta(minutes=1))


def test_a_device_takes_a_queued_execution_in_progress_then_succeeds(world: tuple[FakeJobs, Clock]) -> None:
    jobs, clock = world
    service = _service(jobs, clock)
    # When d1 starts, then succeeds with details
    started = _move(service, "d1", P)
    clock.advance(seconds=30)
    done = _move(service, "d1", S, status_details={"result": "ok"})
    # Then each move bumps the version, started_at is the start, and the job counts follow
    assert (started.status, started.version_number, started.started_at) == (P, 2, T0 + timedelta(minutes=1))
    assert (done.status, done.version_number, done.started_at) == (S, 3, started.started_at)
    assert done.status_details == {"result": "ok"}
    job = jobs.job(T, "j1")
    assert (job.counts[Q], job.counts[P], job.counts[S]) == (1, 0, 1) and job.status is JobStatus.IN_PROGRESS


def test_the_job_completes_when_its_last_open_execution_finishes(world: tuple[FakeJobs, Clock]) -> None:
    jobs, clock = world
    service = _service(jobs, clock)
    _move(service, "d1", S)
    assert jobs.job(T, "j1").status is JobStatus.IN_PROGRESS
    _move(service, "d2", F)
    job = jobs.job(T, "j1")
    assert job.status is JobStatus.COMPLETED and job.completed_at == clock.now
    assert (job.counts[S], job.counts[F], job.counts[Q]) == (1, 1, 0)


def test_a_final_execution_cannot_move_again(world: tuple[FakeJobs, Clock]) -> None:
    jobs, clock = world
    service = _service(jobs, clock)
    _move(service, "d1", F)
    with pytest.raises(Conflict) as again:
        _move(service, "d1", S)
    assert again.value.field == "status" and again.value.extra["execution"]["status"] == "FAILED"
    assert jobs.job(T, "j1").counts[F] == 1 and jobs.job(T, "j1").counts[S] == 0


def test_a_stale_expected_version_is_a_conflict_and_changes_nothing(world: tuple[FakeJobs, Clock]) -> None:
    jobs, clock = world
    service = _service(jobs, clock)
    _move(service, "d1", P)
    with pytest.raises(Conflict) as stale:
        _move(service, "d1", S, expected_version=1)
    assert stale.value.field == "expected_version"
    assert jobs.executions[(T, "j1", "d1")].status is P


def test_a_queued_execution_of_a_canceled_job_is_refused_but_started_work_may_finish() -> None:
    # Given a canceled job where d1 had started and d2 had not
    jobs, clock = FakeJobs(), Clock(T0 + timedelta(minutes=1))
    jobs.add(_job("j1"), ["d1", "d2"])
    service = _service(jobs, clock)
    _move(service, "d1", P)
    canceled = jobs.job(T, "j1").model_copy(update={"status": JobStatus.CANCELED})
    jobs.states[(T, "j1")] = replace(jobs.states[(T, "j1")], job=canceled, sweep=SweepKind.CANCEL, sweep_id="s1")
    # When both report
    with pytest.raises(Conflict) as refused:
        _move(service, "d2", P)
    finished = _move(service, "d1", S)
    # Then the queued one is refused naming the job, and the started one finishes
    assert refused.value.field == "job_id" and "CANCELED" in refused.value.message
    assert finished.status is S


def test_an_update_after_the_job_expired_is_refused(world: tuple[FakeJobs, Clock]) -> None:
    jobs, clock = world
    service = _service(jobs, clock)
    _move(service, "d1", P)
    clock.now = jobs.job(T, "j1").expires_at
    with pytest.raises(Conflict) as expired:
        _move(service, "d1", S)
    assert "expired" in expired.value.message
    assert jobs.executions[(T, "j1", "d1")].status is P


def test_an_execution_of_an_unknown_job_or_another_device_is_not_found(world: tuple[FakeJobs, Clock]) -> None:
    jobs, clock = world
    service = _service(jobs, clock)
    with pytest.raises(NotFound):
        _move(service, "d1", P, job_id="nope")
    with pytest.raises(NotFound):
        _move(service, "d9", P)


def test_pending_lists_open_work_oldest_first_and_leaves_out_refused_jobs() -> None:
    # Given three jobs for d1: an older one in progress, a newer queued one, and a canceled queued one
    jobs, clock = FakeJobs(), Clock(T0 + timedelta(hours=1))
    jobs.add(_job("j-old"), ["d1"])
    jobs.add(_job("j-new", minutes=10), ["d1"])
    jobs.add(_job("j-canceled", minutes=5, status=JobStatus.CANCELED), ["d1"])
    service = _service(jobs, clock)
    _move(service, "d1", P, job_id="j-old")
    # When the device asks what is pending
    pending = service.pending(T, "d1")
    # Then it gets the two live ones, oldest first, with their documents
    assert [(p.job_id, p.status) for p in pending] == [("j-old", P), ("j-new", Q)]
    assert pending[1].document == {"type": "reboot", "params": {"job": "j-new"}}


def test_every_stored_move_is_told_to_the_listener_with_before_and_after(world: tuple[FakeJobs, Clock]) -> None:
    jobs, clock = world
    updates: list[tuple[Execution, Execution]] = []
    service = _service(jobs, clock, updates)
    _move(service, "d1", P)
    with pytest.raises(Conflict):
        _move(service, "d1", Q)  # not a move a device may make
    assert [(b.status, a.status) for b, a in updates] == [(Q, P)]


def test_a_device_may_reject_a_queued_execution(world: tuple[FakeJobs, Clock]) -> None:
    jobs, clock = world
    rejected = _move(_service(jobs, clock), "d2", R)
    assert rejected.status is R and jobs.job(T, "j1").counts[R] == 1


def test_starts_and_steps_on_what_the_service_knows_read_nothing_until_it_is_stale() -> None:
    # Given a service that writes on what it knows
    jobs = FakeJobs()
    jobs.add(_job("j1"), ["d1"])
    jobs.known = True
    clock = Clock(T0 + timedelta(minutes=1))
    service, other = _service(jobs, clock), _service(jobs, clock)
    # When d1 starts and reports a step: no execution read, one write each
    started = _move(service, "d1", P)
    step = _move(service, "d1", P, status_details={"step": "1"})
    assert (jobs.reads, jobs.writes) == (0, 2)
    assert (started.version_number, step.version_number, step.started_at) == (2, 3, started.started_at)
    # And another instance moves it meanwhile: the first one's next step is refused on its stale
    # version, read, and written on the stored state
    _move(other, "d1", P, status_details={"step": "2"})
    again = _move(service, "d1", P, status_details={"step": "3"})
    assert again.version_number == 5 and again == jobs.executions[(T, "j1", "d1")]
    assert jobs.reads == 2  # the other instance's assumed "queued" guess, then this one's stale version
