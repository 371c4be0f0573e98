"""The due-item sweep: over every shard of a sparse due index, handle what is due within a deadline.

Every schedule shares it (command retry and expiry, job sweeps and timeouts, site fan-outs,
group-command batches). Each reads its own due index and decides what handling one item
means; the runner owns the walk over shards, the deadline, and the counts a run reports
(due, done, left).
"""
from __future__ import annotations

import contextvars
import enum
import time
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def schedule_shard(key: str, shards: int) -> int:
    """Which shard of a schedule's sparse due index an item lives in: stable, spread by a hash of its key."""
    return zlib.crc32(key.encode()) % shards


def each(fn: Callable[[T], R], items: list[T], workers: int = 8) -> list[R]:
    """fn over items, in a few threads when there are several."""
    # A fan-out of thousands of single-item writes must fit in one function run, and each
    # write mostly waits on the network.
    if len(items) <= 2:
        return [fn(i) for i in items]
    # Each item runs in a copy of the caller's context, so its log lines keep the correlation id.
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(lambda item: context.copy().run(fn, item), items))


class Outcome(enum.Enum):
    """How handling one due item ended."""

    DONE = "done"  # finished its work
    LEFT = "left"  # made progress, more remains for a later run
    SKIPPED = "skipped"  # nothing to do, or another runner had it


@dataclass
class SweepReport:
    """What one run did: items read from the due index, finished, and left for a later run.

    `unfinished` names the items left, where the sweep gives them names. Each sweep's own
    report adds its domain counts to these.
    """

    due: int = 0
    done: int = 0
    left: int = 0
    skipped: int = 0
    unfinished: list[str] = field(default_factory=list)

    def tally(self, outcome: Outcome, key: str | None = None) -> None:
        """Count one handled item."""
        if outcome is Outcome.DONE:
            self.done += 1
        elif outcome is Outcome.LEFT:
            self.leave(key)
        else:
            self.skipped += 1

    def leave(self, key: str | None = None) -> None:
        """Count one item left for a later run."""
        self.left += 1
        if key is not None:
            self.unfinished.append(key)

    def as_dict(self) -> dict[str, Any]:
        """The report as the scheduled function returns it."""
        return asdict(self)


Rep = TypeVar("Rep", bound=SweepReport)


class SweepRunner:
    """Walks the shards of a due index and hands each due item to a handler.

    With a deadline (monotonic seconds), items reached after it are left for the next run
    without handling; `progress_first` still handles items until one made progress, so a
    run with a tiny budget is never a no-op. Without a deadline, `workers` handle each
    shard's page in parallel.
    """

    def __init__(self, shards: int, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._shards = shards
        self._monotonic = monotonic

    @property
    def shards(self) -> int:
        """How many shards the due index is spread over."""
        return self._shards

    def deadline(self, budget_s: float) -> float:
        """The monotonic instant `budget_s` from now."""
        return self._monotonic() + budget_s

    def out_of_time(self, deadline: float | None) -> bool:
        """Whether `deadline` has passed (never, without one)."""
        return deadline is not None and self._monotonic() >= deadline

    def run(self, report: Rep, due: Callable[[int], Iterable[T]], handle: Callable[[T], Outcome], *,
            key: Callable[[T], str] | None = None, deadline: float | None = None, progress_first: bool = False,
            workers: int = 1) -> Rep:
        """Handle every due item of every shard, tallying the outcomes into `report`."""
        progressed = False
        for shard in range(self._shards):
            items = list(due(shard))
            report.due += len(items)
            if workers > 1 and deadline is None:
                for item, outcome in zip(items, each(handle, items, workers), strict=True):
                    report.tally(outcome, key(item) if key else None)
                continue
            for item in items:
                name = key(item) if key else None
                if (progressed or not progress_first) and self.out_of_time(deadline):
                    report.leave(name)
                    continue
                outcome = handle(item)
                progressed = progressed or outcome is not Outcome.SKIPPED
                report.tally(outcome, name)
        return report
