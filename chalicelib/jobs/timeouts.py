"""The per-minute pass over executions past their in-progress or step deadline."""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from chalicelib.jobs.execution_store import ExecutionRepository
from chalicelib.jobs.executions import ExecutionService

TIMEOUT_PAGE = 200


class JobTimeouts:
    """Finds due deadlines through the sparse `timeouts` index, a Query per shard, and times the executions out."""

    def __init__(self, executions: ExecutionRepository, service: ExecutionService, shards: int,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._executions = executions
        self._service = service
        self._shards = shards
        self._monotonic = monotonic

    def run_due(self, now: datetime, budget_s: float) -> dict[str, int]:
        """Time out what is due in every shard, within the budget; the next run takes the rest."""
        deadline = self._monotonic() + budget_s
        timed_out = left = 0
        for shard in range(self._shards):
            for tenant_id, job_id, device_id in self._executions.timed_out(shard, now, TIMEOUT_PAGE):
                if timed_out and self._monotonic() >= deadline:
                    left += 1
                    continue
                if self._service.time_out(tenant_id, device_id, job_id, now):
                    timed_out += 1
        return {"timed_out": timed_out, "timeouts_left": left}
