"""Reachability of the database and the broker, for GET /health."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chalicelib.core.messaging.base import Publisher

_STARTED = time.monotonic()


class HealthService:
    """Runs each probe and reports; a failing probe never raises."""

    def __init__(self, version: str, publisher: Publisher, db_probe: Callable[[], object],
                 extra_probes: dict[str, Callable[[], Any]] | None = None) -> None:
        self._version = version
        self._publisher = publisher
        self._db_probe = db_probe
        self._extra = extra_probes or {}

    def check(self) -> dict[str, Any]:
        """The health document; `status` is ok only when every dependency answered."""
        report: dict[str, Any] = {"version": self._version, "uptime_s": round(time.monotonic() - _STARTED, 1)}
        report["database"] = self._probe(self._db_probe)
        report["broker"] = self._broker()
        for name, probe in self._extra.items():
            try:
                report[name] = probe()
            except Exception as exc:  # a probe's failure is data, not an outage of /health
                report[name] = {"ok": False, "error": type(exc).__name__}
        healthy = report["database"]["ok"] and report["broker"]["ok"]
        report["status"] = "ok" if healthy else "degraded"
        return report

    @staticmethod
    def _probe(fn: Callable[[], object]) -> dict[str, Any]:
        start = time.monotonic()
        try:
            fn()
        except Exception as exc:  # reachability probe: any failure means unreachable
            return {"ok": False, "error": type(exc).__name__}
        return {"ok": True, "latency_ms": round((time.monotonic() - start) * 1000, 1)}

    def _broker(self) -> dict[str, Any]:
        try:
            return self._publisher.health()
        except Exception as exc:  # same: unreachable
            return {"ok": False, "error": type(exc).__name__}
