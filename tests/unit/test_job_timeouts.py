"""The per-minute timeouts pass on the shared sweep runner: what it times out, skips and leaves."""
from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.jobs.timeouts import JobTimeouts
from tests.unit.test_core_primitives import Ticks

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class FakeIndex:
    """Due (tenant, job, device) per shard, as the timeouts index returns them."""

    def __init__(self, due: dict[int, list[tuple[str, str, str]]]) -> None:
        self.due = due
        self.reads: list[tuple[int, datetime]] = []

    def timed_out(self, shard: int, now: datetime, limit: int) -> list[tuple[str, str, str]]:
        self.reads.append((shard, now))
        return self.due.get(shard, [])[:limit]


class FakeService:
    """Times out every execution except the devices that finished meanwhile."""

    def __init__(self, finished: frozenset[str] = frozenset()) -> None:
        self.finished = set(finished)
        self.timed_out: list[tuple[str, str, str]] = []

    def time_out(self, tenant_id: str, device_id: str, job_id: str, now: datetime) -> bool:
        if device_id in self.finished:
            return False
        self.timed_out.append((tenant_id, job_id, device_id))
        return True


def test_every_shard_is_read_and_each_due_execution_timed_out_once() -> None:
    index = FakeIndex({0: [("t1", "j1", "d1")], 2: [("t1", "j1", "d2"), ("t2", "j9", "d3")]})
    service = FakeService()
    report = JobTimeouts(index, service, shards=3).run_due(NOW, budget_s=60)
    assert [shard for shard, _ in index.reads] == [0, 1, 2] and {now for _, now in index.reads} == {NOW}
    assert service.timed_out == [("t1", "j1", "d1"), ("t1", "j1", "d2"), ("t2", "j9", "d3")]
    assert (report.due, report.done, report.left, report.skipped) == (3, 3, 0, 0)


def test_an_execution_that_finished_since_the_index_was_read_is_skipped_not_counted_done() -> None:
    index = FakeIndex({0: [("t1", "j1", "d1"), ("t1", "j1", "d2")]})
    report = JobTimeouts(index, FakeService(finished=frozenset({"d1"})), shards=1).run_due(NOW, budget_s=60)
    assert (report.done, report.skipped, report.left) == (1, 1, 0)


def test_past_the_budget_the_rest_is_left_for_the_next_run_after_at_least_one() -> None:
    # Given a clock that is past the budget at the first check
    index = FakeIndex({0: [("t1", "j1", f"d{i}") for i in range(5)]})
    service = FakeService()
    report = JobTimeouts(index, service, shards=1, monotonic=Ticks()).run_due(NOW, budget_s=0.5)
    # Then one is still timed out (a run is never a no-op) and four are left
    assert len(service.timed_out) == 1
    assert (report.due, report.done, report.left) == (5, 1, 4)
