"""A device's execution update costs the fewest requests its semantics allow: a change that cannot finish
the job reads no counter shard, and the write that completes the job is followed by no progress read."""
from __future__ import annotations

from collections import Counter

from chalicelib.container import container
from chalicelib.jobs.executions import ExecutionService
from chalicelib.jobs.progress import JobProgress
from chalicelib.jobs.schemas import CreateJob, ExecutionStatus, UpdateExecution
from chalicelib.jobs.service import JobService
from chalicelib.jobs.targets import TargetReader
from tests.integration.jobs_support import fleet
from tests.integration.test_one_write_ack import dynamodb_calls
from tests.support import Api


def test_a_sharded_jobs_updates_read_the_shards_only_when_they_may_finish_it(api: Api) -> None:
    # Given a job of two devices whose counters are spread over four shards
    devices = sorted(fleet(api, "req", 2, group_id="req"))
    c = container()
    limits = c.settings.jobs.model_copy(update={"counter_shards": 4, "notify_full_list_max": 0})
    jobs, executions = c.job_repository, c.execution_repository
    job = JobService(jobs, executions, c.device_repository, c.group_repository, TargetReader(1),
                     c.idempotency_store, c.publisher, c.job_sweeper, limits).create(
        api.tenant_id, CreateJob(document_type="reboot", target_group_id="req")).job
    progress = JobProgress(jobs, c.job_sweeper, c.rollout_releaser, 5.0)
    service = ExecutionService(jobs, executions, on_progress=progress.after_change)

    def update(device_id: str, status: ExecutionStatus) -> Counter[str]:
        with dynamodb_calls() as counts:
            service.update(api.tenant_id, device_id, job.job_id, UpdateExecution(status=status))
        return counts

    # When a device starts: one consistent read of execution and job, one transaction
    assert update(devices[0], ExecutionStatus.IN_PROGRESS) == Counter(TransactGetItems=1, TransactWriteItems=1)
    # When a device finishes with another still open: the shards are read, and the totals after the write
    assert update(devices[0], ExecutionStatus.SUCCEEDED) == Counter(
        TransactGetItems=1, Query=2, TransactWriteItems=1, GetItem=1)
    # When the last one finishes: the write completes the job, and nothing is read after it
    assert update(devices[1], ExecutionStatus.FAILED) == Counter(TransactGetItems=1, Query=1, TransactWriteItems=1)
    final = api.get(f"/customer/jobs/{job.job_id}").body
    assert final["status"] == "COMPLETED", final
    assert final["counts"]["SUCCEEDED"] == 1 and final["counts"]["FAILED"] == 1, final["counts"]
