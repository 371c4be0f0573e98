"""A job whose counters are spread over shards (JobCounts on the job item and each shard): exact counts,
completion decided exactly once, under a burst of finishing devices.

The route tests run with one counter item; the shards are what the JobCounts/counter_actions
refactor touched most, so they get their own burst here.
"""
from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from threading import Lock

import pytest
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.container import container
from chalicelib.core.errors import Unavailable
from chalicelib.core.storage.batch import BatchWriter, model_sender
from chalicelib.jobs.execution_store import ExecutionModel, ExecutionRepository, WriteOutcome
from chalicelib.jobs.executions import ExecutionService
from chalicelib.jobs.progress import JobProgress
from chalicelib.jobs.schemas import CreateJob, Execution, ExecutionStatus, JobStatus, UpdateExecution
from chalicelib.jobs.service import JobService
from chalicelib.jobs.store import JobRepository, JobState
from chalicelib.jobs.targets import TargetReader
from tests.integration.jobs_support import fleet
from tests.support import Api


class CountedCompletions(JobRepository):
    """The repository, counting the conditional flips to COMPLETED that succeeded."""

    def __init__(self, completions: Counter[str]) -> None:
        super().__init__()
        self.completions = completions
        self._lock = Lock()

    def complete(self, tenant_id: str, job_id: str, now: datetime) -> bool:
        done = super().complete(tenant_id, job_id, now)
        if done:
            with self._lock:
                self.completions["after the write"] += 1
        return done


class CountedLastWrites(ExecutionRepository):
    """The repository, counting the last-execution transactions that completed the job in the same write."""

    def __init__(self, completions: Counter[str]) -> None:
        super().__init__(BatchWriter(model_sender(ExecutionModel), workers=2))
        self.completions = completions
        self._lock = Lock()

    def _sharded_last(self, state: JobState, current: Execution, actions: list[Action], exec_condition: Condition,
                      deltas: dict[ExecutionStatus, int], open_delta: int, now: datetime) -> WriteOutcome:
        outcome = super()._sharded_last(state, current, actions, exec_condition, deltas, open_delta, now)
        if outcome is WriteOutcome.DONE:
            with self._lock:
                self.completions["in the last write"] += 1
        return outcome


@pytest.mark.parametrize("shards", [1, 4])
def test_a_sharded_job_counts_exactly_and_completes_once(api: Api, shards: int) -> None:
    # Given a job of 30 devices whose counters are spread over shards
    devices = fleet(api, f"sh{shards}", 30, group_id=f"sh{shards}")
    c = container()
    completions: Counter[str] = Counter()
    jobs, executions = CountedCompletions(completions), CountedLastWrites(completions)
    limits = c.settings.jobs.model_copy(update={"counter_shards": shards, "notify_full_list_max": 0})
    creator = JobService(jobs, executions, c.device_repository, c.group_repository, TargetReader(limits.fanout_workers),
                         c.idempotency_store, c.publisher, c.job_sweeper, limits)
    job = creator.create(api.tenant_id, CreateJob(document_type="reboot", target_group_id=f"sh{shards}")).job
    progress = JobProgress(jobs, c.job_sweeper, c.rollout_releaser, 5.0)
    service = ExecutionService(jobs, executions, on_progress=progress.after_change)
    gave_up: list[str] = []

    def finish(device_id: str) -> None:
        try:
            for status in (ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED if device_id[-1] != "7"
                           else ExecutionStatus.FAILED):
                service.update(api.tenant_id, device_id, job.job_id, UpdateExecution(status=status))
        except Unavailable:
            gave_up.append(device_id)

    # When every device claims and finishes at the same time as the others
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(finish, devices))
    # Then every count is exact, the job is COMPLETED, and it was completed by exactly one write
    assert gave_up == []
    final = api.get(f"/customer/jobs/{job.job_id}").body
    assert final["status"] == JobStatus.COMPLETED.value, final
    assert final["counts"]["SUCCEEDED"] == 27 and final["counts"]["FAILED"] == 3, final["counts"]
    assert final["counts"]["IN_PROGRESS"] == 0 and final["counts"]["QUEUED"] == 0, final["counts"]
    assert sum(completions.values()) == 1, completions
