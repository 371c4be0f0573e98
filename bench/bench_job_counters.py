"""Job counters under a burst: every execution of a big job finishing at once, sharded counters
against the single job item (the layout before sharding) as the baseline, in the same run.

Each device moves QUEUED -> SUCCEEDED through ExecutionService.update (the code the HTTP route
and the MQTT router share) from a pool of threads, as a fleet finishing an update within the
same minute would. Counted: wall time, DynamoDB requests by operation, write outcomes that
had to be retried (a transaction conflict, or a stale view of the job's open counter), and
updates that gave up.
"""
from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from threading import Lock
from typing import Any

from bench.bench_jobs import GROUP, _seed_fleet
from bench.ddb_counter import describe
from bench.harness import BenchContext, Table, pick
from chalicelib.container import container
from chalicelib.core.errors import Unavailable
from chalicelib.core.storage.batch import BatchWriter, model_sender
from chalicelib.jobs.execution_store import ExecutionModel, ExecutionRepository, WriteOutcome
from chalicelib.jobs.executions import ExecutionService
from chalicelib.jobs.schemas import CreateJob, Execution, ExecutionStatus, JobStatus, UpdateExecution
from chalicelib.jobs.service import JobService
from chalicelib.jobs.store import JobState
from chalicelib.jobs.targets import TargetReader

SIZES = pick((10_000,), (1_000,))
WORKERS = 32
SHARDS = 8


class CountingExecutions(ExecutionRepository):
    """The repository, counting how each conditional write ended."""

    def __init__(self) -> None:
        super().__init__(BatchWriter(model_sender(ExecutionModel), workers=4))
        self.outcomes: Counter[str] = Counter()
        self._lock = Lock()

    def transition(self, state: JobState, current: Execution, target: ExecutionStatus,
                   details: dict[str, str] | None, now: datetime, completes_job: bool,
                   deadline: tuple[int, datetime] | None = None, assumed: bool = False) -> WriteOutcome:
        outcome = super().transition(state, current, target, details, now, completes_job, deadline, assumed)
        with self._lock:
            self.outcomes[outcome.value] += 1
        return outcome


def run(ctx: BenchContext) -> list[Table]:
    rows = []
    for n in SIZES:
        for shards in (0, SHARDS):
            rows.append(_burst(ctx, n, shards))
    return [Table(f"Every execution of one job finishing at once ({WORKERS} threads, QUEUED -> SUCCEEDED)",
                  ["devices", "counters", "job", "SUCCEEDED", "wall s", "updates/s", "requests/update",
                   "retried writes", "gave up", "by operation per update"], rows,
                  ["'counters 1 item' is the layout before sharding: every update adds to the job item in its "
                   "transaction, and the last finisher is the one whose condition `open_count = 1` holds",
                   f"'{SHARDS} shards': each update adds to one random shard; the job item is in no device write; "
                   "the last finisher completes the job in its own transaction or, under a race, right after "
                   "(a conditional write that succeeds once)",
                   "retried writes: TransactionConflict, or a condition on the counters that a concurrent "
                   "finisher made stale; every retry re-reads (bounded at 8 attempts, then 503)"])]


def _burst(ctx: BenchContext, n: int, shards: int) -> list[Any]:
    tenant, _ = ctx.new_tenant()
    devices = _seed_fleet(tenant, n)
    executions = CountingExecutions()
    c = container()
    limits = c.settings.jobs.model_copy(update={"counter_shards": shards, "notify_full_list_max": 0})
    jobs = c.job_repository
    creator = JobService(jobs, executions, c.device_repository, c.group_repository, TargetReader(),
                         c.idempotency_store, c.publisher, c.job_sweeper, limits)
    job = creator.create(tenant, CreateJob(document_type="update_firmware", target_group_id=GROUP)).job
    service = ExecutionService(jobs, executions, on_progress=c.job_progress.after_change)
    gave_up = 0
    lock = Lock()

    def finish(device_id: str) -> None:
        nonlocal gave_up
        try:
            service.update(tenant, device_id, job.job_id, UpdateExecution(status=ExecutionStatus.SUCCEEDED))
        except Unavailable:
            with lock:
                gave_up += 1

    with ctx.counter.measure() as counts:
        started = time.perf_counter()
        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(finish, devices))
        elapsed = time.perf_counter() - started
    final = jobs.get(tenant, job.job_id).job
    retried = sum(v for k, v in executions.outcomes.items() if k != WriteOutcome.DONE.value)
    status = final.status.value if final.status is not JobStatus.IN_PROGRESS else "IN_PROGRESS (!)"
    return [n, f"{shards} shards" if shards else "1 item", status, final.counts[ExecutionStatus.SUCCEEDED],
            elapsed, n / elapsed, sum(counts.values()) / n, retried, gave_up, describe(counts, per=n)]
