"""Restarts the local stack's processes when they die, with exponential backoff and a log line.

Why not supervisord, circus or honcho: the stack's processes are configured at start
(free ports, generated broker passwords handed over in the environment), start in
order behind readiness checks (the database answers before tables are created, the
broker listens before credentials sync), and share the stack's life with in-process
threads (scheduler, credential sync, simulators). supervisord and circus run their own
daemon from a config file and would own the processes instead of the stack (circus
also needs ZeroMQ); honcho starts a Procfile but never restarts anything. What is
needed on top of `Child` is one loop: notice an exit, wait, start again.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

log = logging.getLogger("supervisor")


@dataclass
class Unit:
    """One supervised thing: how to (re)start it, whether it is alive, how to stop it."""

    name: str
    start: Callable[[], object]
    alive: Callable[[], bool]
    stop: Callable[[], object]
    describe_exit: Callable[[], str] = lambda: "exited"
    restarts: int = 0
    held: bool = False
    backoff_s: float = 0.0
    next_start: float | None = None
    started_at: float = field(default_factory=time.monotonic)


class Supervisor:
    """Watches units in a background thread; a dead one restarts after 1, 2, 4 ... 30 s.

    The backoff goes back to its first step once a unit has stayed up for `stable_s`.
    `on_restart` is called (name, restarts so far) after each successful restart.
    """

    def __init__(self, first_backoff_s: float = 1.0, max_backoff_s: float = 30.0, stable_s: float = 30.0,
                 poll_s: float = 0.2, on_restart: Callable[[str, int], None] | None = None) -> None:
        self._first, self._max, self._stable, self._poll = first_backoff_s, max_backoff_s, stable_s, poll_s
        self._on_restart = on_restart
        self._units: list[Unit] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, name: str, start: Callable[[], object], alive: Callable[[], bool], stop: Callable[[], object],
            describe_exit: Callable[[], str] | None = None) -> Unit:
        """Watch a unit that is already running."""
        unit = Unit(name, start, alive, stop, describe_exit or (lambda: "exited"), backoff_s=self._first)
        with self._lock:
            self._units.append(unit)
        return unit

    @contextmanager
    def holding(self, name: str) -> Iterator[None]:
        """Leave `name` alone for the block (a tool stops and replaces it), then watch it again."""
        unit = next(u for u in self._units if u.name == name)
        unit.held = True
        try:
            yield
        finally:
            unit.next_start = None
            unit.started_at = time.monotonic()
            unit.held = False

    def restarts(self) -> dict[str, int]:
        """name -> how many times it was restarted."""
        with self._lock:
            return {u.name: u.restarts for u in self._units}

    def start(self) -> Supervisor:
        # Children started by this thread die with it (PR_SET_PDEATHSIG): it lives until stop().
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._poll):
                with self._lock:
                    units = list(self._units)
                for unit in units:
                    if self._stop.is_set():
                        break
                    self._check(unit, time.monotonic())
        finally:
            # Stopped from this thread: the children it restarted die with it (SIGKILL), so
            # they get their orderly SIGTERM first.
            self._stop_units()

    def _check(self, unit: Unit, now: float) -> None:
        if unit.held:
            return
        if unit.alive():
            if unit.next_start is None and now - unit.started_at >= self._stable:
                unit.backoff_s = self._first
            return
        if unit.next_start is None:
            log.error("%s %s; restarting in %.0fs", unit.name, unit.describe_exit(), unit.backoff_s)
            unit.next_start = now + unit.backoff_s
            unit.backoff_s = min(unit.backoff_s * 2, self._max)
            return
        if now < unit.next_start:
            return
        try:
            unit.stop()  # reap it and anything it left in its process group
            unit.start()
        except Exception as exc:
            log.error("%s failed to restart (%s); next try in %.0fs", unit.name, exc, unit.backoff_s)
            unit.next_start = time.monotonic() + unit.backoff_s
            unit.backoff_s = min(unit.backoff_s * 2, self._max)
            return
        unit.restarts += 1
        unit.next_start = None
        unit.started_at = time.monotonic()
        log.warning("%s restarted (restart #%d)", unit.name, unit.restarts)
        if self._on_restart is not None:
            self._on_restart(unit.name, unit.restarts)

    def stop(self) -> None:
        """Stop watching and stop every unit, last added first."""
        self._stop.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(60)
        self._stop_units()

    def _stop_units(self) -> None:
        with self._lock:
            units = list(reversed(self._units))
            self._units.clear()
        for unit in units:
            try:
                unit.stop()
            except Exception:
                log.exception("stopping %s failed", unit.name)
