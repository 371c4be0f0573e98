"""Cancel and expiry of jobs bigger than one chunk: resumable, counted exactly once."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalice.test import Client

from chalicelib.container import container
from chalicelib.core.storage.batch import BatchStats, BatchWriter, model_sender
from chalicelib.jobs.execution_store import ExecutionModel, ExecutionRepository
from chalicelib.jobs.schemas import Execution, ExecutionStatus, SweepKind
from chalicelib.jobs.service import JobLimits, JobService
from chalicelib.jobs.sweeps import JobSweeper
from chalicelib.jobs.targets import TargetReader
from tests.integration.jobs_support import create_job, fleet, run_sweep, update
from tests.support import Api

CHUNK = 25


class DiesAfterWriting(ExecutionRepository):
    """Writes the n-th sweep chunk, then dies as a timed-out function would, before counting it."""

    def __init__(self, die_on: int) -> None:
        super().__init__(BatchWriter(model_sender(ExecutionModel), workers=1))
        self.calls = 0
        self.die_on = die_on

    def write_swept(self, tenant_id: str, executions: list[tuple[Execution, ExecutionStatus]],
                    marker: str) -> BatchStats:
        self.calls += 1
        stats = super().write_swept(tenant_id, executions, marker)
        if self.calls == self.die_on:
            raise TimeoutError("function timed out")
        return stats


def small_chunk_service(executions: ExecutionRepository) -> JobService:
    """The wired job service, but sweeping CHUNK executions at a time through `executions`."""
    s = container().settings
    sweeper = JobSweeper(container().job_repository, executions, s.schedule_shards, CHUNK)
    # A cancel budget above the stage's bound (not validated): only the chunking may stop the cancel.
    limits = JobLimits.model_construct(ttl_default_h=s.jobs.ttl_default_h, ttl_max_h=s.jobs.ttl_max_h,
                                       document_max_bytes=s.jobs.document_max_bytes, shards=s.schedule_shards,
                                       cancel_budget_s=60)
    c = container()
    return JobService(c.job_repository, executions, c.device_repository, c.group_repository,
                      TargetReader(), c.idempotency_store, c.publisher, sweeper, limits)


def counts(api: Api, job_id: str) -> dict[str, Any]:
    return dict(api.get(f"/customer/jobs/{job_id}").body)


def statuses(api: Api, job_id: str) -> dict[str, str]:
    found: dict[str, str] = {}
    cursor = None
    while True:
        page = api.get(f"/customer/jobs/{job_id}?limit=200" + (f"&next_token={cursor}" if cursor else "")).body
        found.update({e["device_id"]: e["status"] for e in page["executions"]})
        if not (cursor := page["next_token"]):
            return found


def test_chunked_cancel_resumes_after_an_interruption_and_counts_exactly(api: Api, chalice_client: Client) -> None:
    # Given a 60-device job, two executions in progress
    tokens = fleet(api, "big", 60, group_id="big")
    job = create_job(api, target_group_id="big")
    for device_id in ("big-000", "big-030"):
        assert update(api, tokens[device_id], job["job_id"], "IN_PROGRESS").status == 200
    # When the cancel dies after writing its second chunk, before counting it
    canceled = small_chunk_service(DiesAfterWriting(die_on=2)).cancel(api.tenant_id, job["job_id"])
    # Then the job is CANCELED, the sweep unfinished, and only the first chunk counted
    assert canceled.status.value == "CANCELED" and canceled.sweep_pending
    assert canceled.counts[ExecutionStatus.REJECTED] == CHUNK - 1
    assert sum(canceled.counts.values()) == 60
    # And while it is unfinished, queued work is refused but in-progress work may finish
    assert update(api, tokens["big-059"], job["job_id"], "IN_PROGRESS").status == 409
    assert update(api, tokens["big-030"], job["job_id"], "SUCCEEDED").status == 200
    # When the schedule runs
    report = run_sweep(chalice_client, datetime.now().astimezone() + timedelta(minutes=1))
    assert report["finished"] >= 1
    # Then every queued execution is REJECTED, each counted once
    final = counts(api, job["job_id"])
    assert final["sweep_pending"] is False and final["status"] == "CANCELED"
    assert final["counts"] == {"QUEUED": 0, "IN_PROGRESS": 1, "SUCCEEDED": 1, "FAILED": 0, "REJECTED": 58,
                               "TIMED_OUT": 0}
    found = statuses(api, job["job_id"])
    assert sum(1 for s in found.values() if s == "REJECTED") == 58
    assert found["big-000"] == "IN_PROGRESS"


def test_a_chunk_processed_by_two_runs_is_counted_once(api: Api) -> None:
    # Given a cancel sweep that has not started its chunks
    fleet(api, "dup", 30, group_id="dup")
    job = create_job(api, target_group_id="dup")
    jobs = container().job_repository
    state = jobs.begin_sweep(api.tenant_id, job["job_id"], SweepKind.CANCEL, "01sweep", datetime.now().astimezone())
    sweeper = JobSweeper(jobs, container().execution_repository, container().settings.schedule_shards, CHUNK)
    # When two runs both start from the same (stale) view of the job
    sweeper.continue_sweep(state, deadline=0, now=datetime.now().astimezone())
    sweeper.continue_sweep(state, deadline=0, now=datetime.now().astimezone())
    sweeper.continue_sweep(jobs.get(api.tenant_id, job["job_id"]), deadline=0, now=datetime.now().astimezone())
    # Then the counters match the executions exactly
    final = counts(api, job["job_id"])
    assert final["sweep_pending"] is False
    assert final["counts"]["REJECTED"] == 30 and final["counts"]["QUEUED"] == 0


def test_expiry_of_a_big_job_spreads_over_runs_with_a_small_budget(api: Api, chalice_client: Client) -> None:
    # Given a 60-device job past its expiry, with one execution in progress
    tokens = fleet(api, "slow", 60, group_id="slow")
    job = create_job(api, target_group_id="slow", expires_in_hours=1)
    update(api, tokens["slow-007"], job["job_id"], "IN_PROGRESS")
    later = datetime.fromisoformat(job["expires_at"]) + timedelta(minutes=1)
    c = container()
    sweeper = JobSweeper(c.job_repository, c.execution_repository, c.settings.schedule_shards, CHUNK)
    # When each scheduled run only has time for one chunk
    runs = 0
    while counts(api, job["job_id"])["status"] != "COMPLETED":
        sweeper.run_due(later, budget_s=0)
        runs += 1
        assert runs < 30  # other tests' expired jobs may be swept first
    # Then it took several runs and every open execution TIMED_OUT
    assert runs >= 3
    final = counts(api, job["job_id"])
    assert final["counts"]["TIMED_OUT"] == 60 and final["counts"]["QUEUED"] == 0
    assert set(statuses(api, job["job_id"]).values()) == {"TIMED_OUT"}


def test_expiry_times_out_in_progress_work_of_a_canceled_job(api: Api, chalice_client: Client) -> None:
    # Given a canceled job whose only execution was in progress
    device_id, token = api.create_device("c")
    job = create_job(api, target_device_id=device_id, expires_in_hours=2)
    update(api, token, job["job_id"], "IN_PROGRESS")
    assert api.delete(f"/customer/jobs/{job['job_id']}").body["counts"]["IN_PROGRESS"] == 1
    # When it expires
    run_sweep(chalice_client, datetime.fromisoformat(job["expires_at"]) + timedelta(minutes=1))
    # Then the execution TIMED_OUT and the job stays CANCELED
    final = counts(api, job["job_id"])
    assert final["status"] == "CANCELED" and final["executions"][0]["status"] == "TIMED_OUT"
    assert final["counts"]["TIMED_OUT"] == 1 and final["counts"]["IN_PROGRESS"] == 0
