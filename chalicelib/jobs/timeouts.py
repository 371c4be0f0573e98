"""The per-minute pass over executions past their in-progress or step deadline."""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from chalicelib.core.sweep import Outcome, SweepReport, SweepRunner

TIMEOUT_PAGE = 200


class DueTimeouts(Protocol):
    """The sparse `timeouts` index (the execution repository)."""

    def timed_out(self, shard: int, now: datetime, limit: int) -> list[tuple[str, str, str]]: ...


class TimesOut(Protocol):
    """What times one execution out (the execution service): False when it moved on meanwhile."""

    def time_out(self, tenant_id: str, device_id: str, job_id: str, now: datetime) -> bool: ...


class JobTimeouts:
    """Finds due deadlines through the sparse `timeouts` index, a Query per shard, and times the executions out."""

    def __init__(self, executions: DueTimeouts, service: TimesOut, shards: int,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._executions = executions
        self._service = service
        self._runner = SweepRunner(shards, monotonic)

    def run_due(self, now: datetime, budget_s: float) -> SweepReport:
        """Time out what is due in every shard, within the budget; the next run takes the rest."""

        def time_out(due: tuple[str, str, str]) -> Outcome:
            tenant_id, job_id, device_id = due
            # Not DONE when the device finished (or another run timed it out) since the index was read.
            return Outcome.DONE if self._service.time_out(tenant_id, device_id, job_id, now) else Outcome.SKIPPED

        return self._runner.run(SweepReport(), lambda shard: self._executions.timed_out(shard, now, TIMEOUT_PAGE),
                                time_out, deadline=self._runner.deadline(budget_s), progress_first=True)
