"""Fires every @app.schedule function of the app, as EventBridge would, in-process.

`python -m infra.local.scheduler --interval 60` runs it as the local stack's own process, so
its JSON lines (one report per function and tick, EMF metrics) land in its log file.
"""
from __future__ import annotations

import argparse
import importlib
import signal
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from chalice import Chalice
from chalice.app import ScheduledEventConfig

from chalicelib.core.observability.log import configure_process, logger


def scheduled_event(now: datetime | None = None) -> dict[str, Any]:
    """A scheduled event as EventBridge sends it; `time` is what the functions use as now."""
    when = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }


def scheduled_functions(app: Chalice) -> dict[str, Callable[[dict[str, Any], Any], Any]]:
    """name -> handler of every scheduled function registered on the app."""
    found = {}
    for source in app.event_sources:
        if isinstance(source, ScheduledEventConfig):
            module_name, _, attr = source.handler_string.rpartition(".")
            found[source.name] = getattr(importlib.import_module(module_name), attr)
    return found


def run_all(app: Chalice, now: datetime | None = None) -> dict[str, Any]:
    """Fire every scheduled function once; one failing does not stop the others."""
    results: dict[str, Any] = {}
    for name, fn in scheduled_functions(app).items():
        try:
            results[name] = fn(scheduled_event(now), None)
        except Exception as exc:  # report and keep the schedule going, as EventBridge would
            logger.exception("scheduled function failed", schedule=name, outcome="error")
            results[name] = {"error": type(exc).__name__}
    return results


class Scheduler:
    """Calls run_all every `interval_s` seconds in a background thread."""

    def __init__(self, app: Chalice, interval_s: float = 60.0) -> None:
        self._app = app
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Scheduler:
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            run_all(self._app)

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)


def main() -> None:
    """Run the schedules every --interval seconds until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval", type=float, default=60.0)
    args = parser.parse_args()
    configure_process()
    from app import app

    scheduler = Scheduler(app, args.interval).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    scheduler.stop()


if __name__ == "__main__":
    main()
