"""The shared retry policy and due-item sweep runner, read as specifications."""
from __future__ import annotations

from chalicelib.core.retry import RetryPolicy
from chalicelib.core.sweep import Outcome, SweepReport, SweepRunner


class Ticks:
    """A monotonic clock that moves one second per reading."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_full_jitter_waits_anywhere_up_to_the_capped_doubling() -> None:
    policy = RetryPolicy(min_s=0.1, max_s=0.4, max_attempts=5, jitter=1.0)
    assert [policy.delay(n, rand=lambda: 1.0) for n in (1, 2, 3, 4)] == [0.1, 0.2, 0.4, 0.4]
    assert policy.delay(3, rand=lambda: 0.0) == 0.0


def test_no_jitter_waits_exactly() -> None:
    assert RetryPolicy(min_s=0.05, max_s=0.1, max_attempts=3, jitter=0.0).delay(2, rand=lambda: 0.3) == 0.1


def test_retries_sleep_between_attempts_and_stop_at_the_bound() -> None:
    # Given three attempts allowed
    sleeps: list[float] = []
    policy = RetryPolicy(min_s=0.05, max_s=1.0, max_attempts=3, jitter=0.0)
    # When every attempt is used
    attempts = list(policy.retries(sleeps.append))
    # Then the backoff is slept before the second and third only, and the third is the last
    assert attempts == [1, 2, 3] and sleeps == [0.05, 0.1]
    assert policy.exhausted(3) and not policy.exhausted(2)


def test_zero_attempts_means_no_bound() -> None:
    policy = RetryPolicy(max_attempts=0)
    attempts = policy.attempts()
    assert [next(attempts) for _ in range(100)][-1] == 100
    assert not policy.exhausted(10_000)


def test_runner_handles_every_due_item_of_every_shard_and_counts_outcomes() -> None:
    # Given two shards with due items whose handling ends three ways
    due = {0: ["a", "b"], 1: ["c"]}
    outcomes = {"a": Outcome.DONE, "b": Outcome.SKIPPED, "c": Outcome.LEFT}
    # When the runner sweeps them
    report = SweepRunner(2).run(SweepReport(), lambda shard: due[shard], outcomes.__getitem__, key=str.upper)
    # Then each is counted once and the unfinished one is named
    assert (report.due, report.done, report.skipped, report.left) == (3, 1, 1, 1)
    assert report.unfinished == ["C"]


def test_past_the_deadline_items_are_left_unhandled() -> None:
    handled: list[str] = []
    runner = SweepRunner(1, monotonic=Ticks())

    def handle(item: str) -> Outcome:
        handled.append(item)
        return Outcome.DONE

    report = runner.run(SweepReport(), lambda shard: ["a", "b"], handle, key=str, deadline=0.0)
    assert handled == [] and report.left == 2 and report.unfinished == ["a", "b"]


def test_progress_first_makes_some_progress_however_small_the_budget() -> None:
    # Given a deadline already past and two items, the first of which has nothing to do
    handled: list[str] = []
    outcomes = {"idle": Outcome.SKIPPED, "work": Outcome.LEFT, "more": Outcome.DONE}

    def handle(item: str) -> Outcome:
        handled.append(item)
        return outcomes[item]

    # When the runner must make progress first
    report = SweepRunner(1, monotonic=Ticks()).run(
        SweepReport(), lambda shard: ["idle", "work", "more"], handle, key=str, deadline=0.0, progress_first=True)
    # Then it handles items until one made progress, and leaves the rest
    assert handled == ["idle", "work"]
    assert report.unfinished == ["work", "more"] and report.as_dict()["due"] == 3


def test_parallel_workers_tally_the_same_as_one() -> None:
    items = [f"i{n}" for n in range(20)]
    report = SweepRunner(3).run(SweepReport(), lambda shard: items, lambda item: Outcome.DONE, workers=4)
    assert report.due == 60 and report.done == 60
