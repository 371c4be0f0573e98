"""A device's non-final execution update written on what the process knows (known.py): one request when
that knowledge is still true, and when it is not (another process wrote, the job was canceled, the
execution was queued differently, a crash lost an answer) the read path's answer and counts, exactly."""
from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.container import container
from chalicelib.core.errors import Conflict, Unavailable
from chalicelib.core.storage.batch import BatchWriter, model_sender
from chalicelib.jobs.execution_model import ExecutionModel, job_key
from chalicelib.jobs.execution_store import ExecutionRepository, WriteOutcome
from chalicelib.jobs.executions import ExecutionService
from chalicelib.jobs.known import KnownStates
from chalicelib.jobs.progress import JobProgress
from chalicelib.jobs.schemas import CreateJob, Execution, ExecutionStatus, Job, UpdateExecution
from chalicelib.jobs.service import JobService
from chalicelib.jobs.targets import TargetReader
from tests.integration.jobs_support import fleet
from tests.integration.test_job_counter_shards import CountedCompletions, CountedLastWrites
from tests.integration.test_one_write_ack import dynamodb_calls
from tests.support import Api

P, S = ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED


def _job(api: Api, prefix: str, n: int, shards: int, **body: Any) -> tuple[Job, list[str]]:
    devices = sorted(fleet(api, prefix, n, group_id=prefix))
    c = container()
    limits = c.settings.jobs.model_copy(update={"counter_shards": shards, "notify_full_list_max": 0})
    job = JobService(c.job_repository, c.execution_repository, c.device_repository, c.group_repository,
                     TargetReader(1), c.idempotency_store, c.publisher, c.job_sweeper, limits).create(
        api.tenant_id, CreateJob(document_type="reboot", target_group_id=prefix, **body)).job
    return job, devices


def _process() -> ExecutionService:
    """One function process's execution service: its own knowledge, the real stores."""
    c = container()
    progress = JobProgress(c.job_repository, c.job_sweeper, c.rollout_releaser, 5.0)
    return ExecutionService(c.job_repository, c.execution_repository, on_progress=progress.after_change,
                            known=KnownStates(c.job_repository, timedelta(seconds=60)))


def _stored(api: Api, job_id: str, device_id: str) -> Execution:
    found = container().execution_repository.find(api.tenant_id, job_id, device_id)
    assert found is not None
    return found


def _counts(api: Api, job_id: str) -> dict[str, int]:
    return dict(api.get(f"/customer/jobs/{job_id}").body["counts"])


def _update(service: ExecutionService, api: Api, job_id: str, device_id: str, status: ExecutionStatus,
            **extra: Any) -> tuple[Execution, Counter[str]]:
    with dynamodb_calls() as calls:
        answer = service.update(api.tenant_id, device_id, job_id, UpdateExecution(status=status, **extra))
    return answer, calls


@pytest.mark.parametrize("shards", [0, 4])
def test_start_and_step_updates_are_one_write_each_with_the_stored_answer(api: Api, shards: int) -> None:
    # Given a job of two devices, counted on the job item (0) or on four shards
    job, devices = _job(api, f"kn{shards}", 2, shards, in_progress_timeout_minutes=30)
    service = _process()
    # When the first device starts: the job is read once for this process, then one transaction
    first, calls = _update(service, api, job.job_id, devices[0], P)
    assert calls == Counter(BatchGetItem=1, TransactWriteItems=1)
    # And the second starts and the first reports a step: one transaction each, nothing read
    second, calls = _update(service, api, job.job_id, devices[1], P)
    assert calls == Counter(TransactWriteItems=1)
    step, calls = _update(service, api, job.job_id, devices[0], P, status_details={"step": "download"},
                          step_timeout_minutes=5)
    assert calls == Counter(TransactWriteItems=1)
    # Then every answer is what is stored, field for field
    assert second == _stored(api, job.job_id, devices[1])
    assert step == _stored(api, job.job_id, devices[0])
    assert (step.version_number, step.started_at, step.status_details) == (3, first.started_at, {"step": "download"})
    # And a step keeping those details (the write holds the stored ones to what it knows) is one write too
    _update(service, api, job.job_id, devices[1], P, status_details={"step": "a", "of": "2"})
    kept, calls = _update(service, api, job.job_id, devices[1], P, step_timeout_minutes=10)
    assert calls == Counter(TransactWriteItems=1)
    assert kept == _stored(api, job.job_id, devices[1]) and kept.status_details == {"step": "a", "of": "2"}
    assert step.timeout_at is not None and first.timeout_at is not None and step.timeout_at < first.timeout_at
    assert _counts(api, job.job_id)["IN_PROGRESS"] == 2 and _counts(api, job.job_id)["QUEUED"] == 0
    # And a finish reads what it may complete (execution and job, on shards their open counts), and the
    # last one completes the job in its own write
    _, calls = _update(service, api, job.job_id, devices[0], S)
    assert calls == (Counter(TransactGetItems=1, Query=2, TransactWriteItems=1, GetItem=1) if shards
                     else Counter(TransactGetItems=1, TransactWriteItems=1))
    _, calls = _update(service, api, job.job_id, devices[1], S)
    assert calls == (Counter(TransactGetItems=1, Query=1, TransactWriteItems=1) if shards
                     else Counter(TransactGetItems=1, TransactWriteItems=1))
    final = api.get(f"/customer/jobs/{job.job_id}").body
    assert final["status"] == "COMPLETED" and final["counts"]["SUCCEEDED"] == 2, final
    assert final["counts"]["IN_PROGRESS"] == 0, final["counts"]


def test_another_process_writing_makes_the_known_state_cost_a_read_not_a_wrong_answer(api: Api) -> None:
    # Given a job of two devices and two function processes
    job, devices = _job(api, "knb", 2, 4)
    a, b = _process(), _process()
    _update(a, api, job.job_id, devices[0], P)  # process A now knows version 2
    # When process B reports a step (it assumes the execution is still queued: refused, read, written)
    by_b, calls = _update(b, api, job.job_id, devices[0], P, status_details={"step": "b"})
    assert calls == Counter(BatchGetItem=1, TransactWriteItems=2, TransactGetItems=1)
    assert by_b.version_number == 3 and by_b == _stored(api, job.job_id, devices[0])
    # And process A, whose version 2 is stale, reports another: read, then written on the stored state
    by_a, calls = _update(a, api, job.job_id, devices[0], P, status_details={"step": "a"})
    assert calls == Counter(TransactWriteItems=2, TransactGetItems=1)
    assert by_a.version_number == 4 and by_a == _stored(api, job.job_id, devices[0])
    # And an expected version the device kept from long ago is judged on the stored one (409 naming it)
    with pytest.raises(Conflict) as refused:
        b.update(api.tenant_id, devices[0], job.job_id, UpdateExecution(status=P, expected_version=2))
    assert refused.value.field == "expected_version"
    # Then the start was counted once, whoever wrote after it
    counts = _counts(api, job.job_id)
    assert (counts["IN_PROGRESS"], counts["QUEUED"]) == (1, 1), counts


def test_a_canceled_job_refuses_a_start_the_process_thought_allowed(api: Api) -> None:
    # Given a process that read a live job
    job, devices = _job(api, "knc", 2, 4)
    service = _process()
    _update(service, api, job.job_id, devices[0], P)
    # When the operator cancels it (the queued device is rejected by the sweep)
    assert api.delete(f"/customer/jobs/{job.job_id}").status == 200
    # Then the queued device's start is refused on the stored state, and nothing is counted
    with pytest.raises(Conflict) as refused:
        service.update(api.tenant_id, devices[1], job.job_id, UpdateExecution(status=P))
    assert refused.value.extra["execution"]["status"] == "REJECTED"
    counts = _counts(api, job.job_id)
    assert (counts["IN_PROGRESS"], counts["REJECTED"], counts["QUEUED"]) == (1, 1, 0), counts


def test_an_execution_queued_later_than_its_job_is_answered_as_stored(api: Api) -> None:
    # Given a device queued a minute after the job was created (as a continuous job's joiner is)
    job, devices = _job(api, "knq", 1, 0)
    later = job.created_at + timedelta(minutes=1)
    ExecutionModel(job_key(api.tenant_id, job.job_id), devices[0]).update(
        actions=[ExecutionModel.queued_at.set(later)])
    # When it starts through a process that assumes the execution is as the job queued it
    answer, calls = _update(_process(), api, job.job_id, devices[0], P)
    # Then the assumption is refused by the write, and the answer is the stored execution
    assert calls == Counter(BatchGetItem=1, TransactWriteItems=2, TransactGetItems=1)
    assert answer.queued_at == later and answer == _stored(api, job.job_id, devices[0])


class LostAnswer(Exception):
    """The process died after its write committed, before anyone heard of it."""


class CommitThenDie(ExecutionRepository):
    def transition(self, *args: Any, **kwargs: Any) -> WriteOutcome:
        super().transition(*args, **kwargs)
        raise LostAnswer


def test_a_crash_after_the_write_neither_loses_nor_double_counts(api: Api) -> None:
    # Given a process that dies right after each of its writes commits
    job, devices = _job(api, "knx", 2, 4)
    c = container()
    dying = ExecutionService(c.job_repository, CommitThenDie(BatchWriter(model_sender(ExecutionModel))),
                             known=KnownStates(c.job_repository, timedelta(seconds=60)))
    for status in (P, S):
        with pytest.raises(LostAnswer):
            dying.update(api.tenant_id, devices[0], job.job_id, UpdateExecution(status=status))
        # When the bridge redelivers the same message to a fresh process
        try:
            _process().update(api.tenant_id, devices[0], job.job_id, UpdateExecution(status=status))
        except Conflict:  # the final one: already SUCCEEDED, and final statuses have no way out
            assert status is S
        # Then each move is counted once
        counts = _counts(api, job.job_id)
        expected = {P: (1, 1, 0), S: (1, 0, 1)}[status]
        assert (counts["QUEUED"], counts["IN_PROGRESS"], counts["SUCCEEDED"]) == expected, counts


@pytest.mark.parametrize("shards", [0, 4])
def test_a_burst_on_known_states_counts_exactly_and_completes_once(api: Api, shards: int) -> None:
    # Given a job of 24 devices and two processes, each answering some of every device's messages
    job, devices = _job(api, f"knburst{shards}", 24, shards)
    completions: Counter[str] = Counter()
    c = container()
    jobs, executions = CountedCompletions(completions), CountedLastWrites(completions)

    def process() -> ExecutionService:
        progress = JobProgress(jobs, c.job_sweeper, c.rollout_releaser, 5.0)
        return ExecutionService(jobs, executions, on_progress=progress.after_change,
                                known=KnownStates(jobs, timedelta(seconds=60)))

    a, b = process(), process()
    gave_up: list[str] = []

    def run(device_id: str) -> None:
        odd = int(device_id[-1]) % 2
        steps = [(a, P, None), (b if odd else a, P, {"step": "1"}),
                 (b if odd else a, ExecutionStatus.FAILED if device_id.endswith("7") else S, None)]
        try:
            for service, status, details in steps:
                service.update(api.tenant_id, device_id, job.job_id,
                               UpdateExecution(status=status, status_details=details))
        except Unavailable:
            gave_up.append(device_id)

    # When all of them start, step and finish at once
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(run, devices))
    # Then the counts are exact and the job completed (on shards: once, in the last write or after it)
    assert gave_up == []
    final = api.get(f"/customer/jobs/{job.job_id}").body
    assert final["status"] == "COMPLETED", final
    assert (final["counts"]["SUCCEEDED"], final["counts"]["FAILED"]) == (22, 2), final["counts"]
    assert final["counts"]["IN_PROGRESS"] == 0 and final["counts"]["QUEUED"] == 0, final["counts"]
    assert sum(completions.values()) == (1 if shards else 0), completions
