"""Following something until it is final: a poll loop, a spinner, and a job's progress bars."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from fleet_cli.errors import WaitTimeout
from fleet_cli.output import console

T = TypeVar("T")

EXECUTION_STATUSES = ("QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "REJECTED", "TIMED_OUT")


def poll(fetch: Callable[[], T], done: Callable[[T], bool], *, timeout: float, interval: float,
         what: str, on_update: Callable[[T], None] | None = None) -> T:
    """Fetch until `done`; WaitTimeout after `timeout` seconds (the last state is in the message)."""
    deadline = time.monotonic() + timeout
    while True:
        current = fetch()
        if on_update is not None:
            on_update(current)
        if done(current):
            return current
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"gave up waiting for {what} after {timeout:g}s")
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))


def with_spinner(fetch: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool], *,
                 timeout: float, interval: float, what: str, label: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
    """Poll under a spinner on stderr that shows the current state."""
    with console(stderr=True).status(f"waiting for {what}") as status:
        return poll(fetch, done, timeout=timeout, interval=interval, what=what,
                    on_update=lambda cur: status.update(f"{what}: {label(cur)}"))


def follow_job(fetch: Callable[[], dict[str, Any]], *, timeout: float, interval: float) -> dict[str, Any]:
    """Poll a job until it is no longer IN_PROGRESS, with one progress bar per execution status."""
    progress = Progress(TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console(stderr=True), transient=False)
    tasks: dict[str, TaskID] = {}

    def update(job: dict[str, Any]) -> None:
        total = int(job.get("execution_count") or 0)
        counts = job.get("counts") or {}
        for name in EXECUTION_STATUSES:
            if name not in tasks:
                tasks[name] = progress.add_task(name, total=total or None)
            progress.update(tasks[name], completed=int(counts.get(name, 0)), total=total or None)

    with progress:
        return poll(fetch, lambda job: job.get("status") != "IN_PROGRESS", timeout=timeout, interval=interval,
                    what="the job", on_update=update)
