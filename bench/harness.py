"""What every benchmark gets: a running local stack, clients, a request counter, tables."""
from __future__ import annotations

import os
import statistics
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests
from chalice.test import Client

from bench.ddb_counter import DdbRequestCounter
from infra.local.stack import LocalStack

T = TypeVar("T")


@dataclass
class Table:
    """One printed result table."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        cells = [[str(c) for c in self.columns]] + [[_fmt(c) for c in row] for row in self.rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.columns))]
        line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
        out = [f"### {self.title}", line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        out += [line(r) for r in cells[1:]]
        out += [f"- {n}" for n in self.notes]
        return "\n".join(out)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.2f}"
    return str(value)


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max/mean of latency samples in milliseconds."""
    if not samples_ms:
        return {"n": 0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0}
    ordered = sorted(samples_ms)
    q = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return {"n": len(ordered), "p50": q[49], "p95": q[94], "p99": q[98], "max": ordered[-1],
            "mean": statistics.fmean(ordered)}


def latency_row(label: str, samples_ms: Sequence[float]) -> list[Any]:
    """A table row: label, n, p50, p95, p99, max (ms)."""
    p = percentiles(samples_ms)
    return [label, p["n"], p["p50"], p["p95"], p["p99"], p["max"]]


# `make bench` runs quick sizes (the whole run within about 8 minutes on 2 cores, see issue_size);
# `make bench FULL=1` runs the full sizes the README's figures were measured with.
FULL = os.environ.get("BENCH_FULL", "") not in ("", "0")


def pick(full: T, quick: T) -> T:
    """The full size under `make bench FULL=1`, the quick one otherwise."""
    return full if FULL else quick


# A bench whose issue names its size runs that size by default; `make bench QUICK=1` scales it down
# for a smoke run.
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")


def issue_size(size: T, quick: T) -> T:
    """The size the issue's Done-when names, the quick one under `make bench QUICK=1`."""
    return quick if QUICK else size


LATENCY_COLUMNS = ["operation", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"]


class BenchContext:
    """A running local stack (no demo devices) and the ways to reach it."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.api_url = stack.api_url
        self.mqtt_host = "127.0.0.1"
        self.mqtt_port = stack.o.mqtt_port
        self.observer = stack.users["observer"]
        self.counter = DdbRequestCounter()
        from app import app

        self.app = app
        self._client = Client(app)

    def new_tenant(self) -> tuple[str, str]:
        """A fresh tenant id and an operator token for it."""
        tenant = f"bench-{uuid.uuid4().hex[:8]}"
        return tenant, self.stack.operator_token(tenant)

    def http(self, token: str) -> requests.Session:
        """A keep-alive session to the API with an operator token."""
        session = requests.Session()
        session.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        return session

    def device_http(self, provision_token: str) -> requests.Session:
        session = requests.Session()
        session.headers.update({"X-Provision-Token": provision_token, "Content-Type": "application/json"})
        return session

    @property
    def inprocess(self) -> Client:
        """The same app in this process: DynamoDB requests made here are countable."""
        return self._client

    def sync_broker(self) -> None:
        """Push registry credentials to the broker now (new devices can connect)."""
        self.stack.sync.sync_once()
