"""One unit of work of a function (an invocation, a scheduled run) and its report line."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from chalicelib.core.observability.log import begin, end, logger
from chalicelib.core.observability.metrics import metrics


@contextmanager
def invocation(correlation_id: object = None, **keys: object) -> Iterator[str]:
    """Begin the work's correlation id and keys; flush its metrics when it ends, however it ends."""
    cid = begin(correlation_id, **keys)
    try:
        yield cid
    finally:
        metrics.flush()
        end()


class RunReport(Protocol):
    """What a scheduled run reports: the shared sweep report's counts and its dict form."""

    due: int
    done: int
    left: int

    def as_dict(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=RunReport)


def report_run(schedule: str, report: R) -> R:
    """A scheduled run's one report line (what was due, done, left for the next tick) and its backlog metric."""
    outcome = "caught_up" if report.left == 0 else "backlog"
    logger.info("schedule report", schedule=schedule, due=report.due, done=report.done, left=report.left,
                outcome=outcome, report=report.as_dict())
    metrics.gauge("ScheduleBacklog", "schedule", schedule, report.left)
    return report


def scheduled_run(event_id: str, schedule: str, work: Callable[[], RunReport]) -> dict[str, Any]:
    """One tick of a per-minute function: its own correlation id, the work, its report line; the report returned."""
    with invocation(event_id, schedule=schedule):
        return report_run(schedule, work()).as_dict()
