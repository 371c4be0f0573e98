"""Health from cheap state: the database's and the broker's last known status, kept a short while.

`/health` is public and polled (consoles, load balancers, uptime checks), so it must not
cost a query per call: each probe runs at most once per `ttl_s` per process and its answer
is served from memory in between. The backlogs (what the schedules have left) need
queries over the sparse indexes; they are only in the detailed report, behind operator
auth, read fresh, and counted for the caller's tenant only (never another tenant's backlog).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from chalicelib.core.messaging.base import Publisher

_STARTED = time.monotonic()

Probe = Callable[[], Any]
# A detailed probe counts one tenant's share: it is given the caller's tenant id.
TenantProbe = Callable[[str], Any]


# A failing dependency is probed again sooner: recovery shows within a second.
FAILED_TTL_S = 1.0


class _Cached:
    """One probe's last answer and when it was taken; a failing probe is data, never an exception."""

    def __init__(self, probe: Callable[[], dict[str, Any]], ttl_s: float, monotonic: Callable[[], float]) -> None:
        self._probe = probe
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._value: dict[str, Any] | None = None
        self._taken = 0.0

    def get(self) -> dict[str, Any]:
        with self._lock:
            now = self._monotonic()
            ttl = self._ttl_s if self._value and self._value.get("ok") else min(self._ttl_s, FAILED_TTL_S)
            if self._value is None or now - self._taken >= ttl:
                self._value, self._taken = self._probe(), now
            return {**self._value, "age_s": round(now - self._taken, 1)}


class HealthService:
    """The public health document and the detailed one with the backlogs."""

    def __init__(self, version: str, publisher: Publisher, db_probe: Callable[[], object],
                 extra_probes: dict[str, TenantProbe] | None = None, ttl_s: float = 10.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._version = version
        self._monotonic = monotonic
        self._database = _Cached(lambda: _timed(db_probe), ttl_s, monotonic)
        self._broker = _Cached(lambda: _safe(publisher.health), ttl_s, monotonic)
        self._extra = dict(extra_probes or {})

    def check(self) -> dict[str, Any]:
        """The public document; `status` is ok only when both dependencies were ok when last probed."""
        report: dict[str, Any] = {"version": self._version,
                                  "uptime_s": round(self._monotonic() - _STARTED, 1),
                                  "database": self._database.get(), "broker": self._broker.get()}
        report["status"] = "ok" if report["database"]["ok"] and report["broker"]["ok"] else "degraded"
        return report

    def details(self, tenant_id: str) -> dict[str, Any]:
        """The public document plus the tenant's own backlogs, read now (operators only: it costs queries)."""
        return {**self.check(), **{name: _safe(partial(probe, tenant_id)) for name, probe in self._extra.items()}}


def _timed(fn: Callable[[], object]) -> dict[str, Any]:
    start = time.monotonic()
    try:
        fn()
    except Exception as exc:  # reachability probe: any failure means unreachable
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "latency_ms": round((time.monotonic() - start) * 1000, 1)}


def _safe(fn: Probe) -> dict[str, Any]:
    try:
        value = fn()
    except Exception as exc:  # a probe's failure is data, not an outage of /health
        return {"ok": False, "error": type(exc).__name__}
    return dict(value) if isinstance(value, dict) else {"value": value}
