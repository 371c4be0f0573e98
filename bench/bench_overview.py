"""The overview: DynamoDB requests and latency per load by fleet size, beside counting the same from the lists.

The baseline is what a console would do without the overview: page through the devices and
read each device's command history to count presence and outcomes. Both run in-process, where
botocore's hooks count every DynamoDB request.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from bench.ddb_counter import describe
from bench.harness import BenchContext, Table, pick

SIZES = pick((100, 1000), (20, 100))
COMMANDS_PER_DEVICE = 2


class Tenant:
    """An operator and its devices' tokens, calling the app in-process."""

    def __init__(self, ctx: BenchContext) -> None:
        _tenant, token = ctx.new_tenant()
        self._client = ctx.inprocess
        self._auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        resp = getattr(self._client.http, method)(path, headers=headers or self._auth,
                                                  body=json.dumps(body).encode() if body is not None else b"")
        if resp.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {resp.status_code} {resp.body[:200]!r}")
        return json.loads(resp.body)


def fleet(ctx: BenchContext, devices: int) -> Tenant:
    """`devices` devices, half heard from; each gets COMMANDS_PER_DEVICE pings, the heard-from half ACKs them."""
    tenant = Tenant(ctx)
    for i in range(devices):
        token = tenant.call("post", "/customer/devices", {"device_id": f"d{i:05d}"})["provision_token"]
        if i % 2:
            continue
        device = {"X-Provision-Token": token, "Content-Type": "application/json"}
        for _ in range(COMMANDS_PER_DEVICE):
            command = tenant.call("post", f"/customer/devices/d{i:05d}/commands", {"command_type": "ping"})
            tenant.call("post", f"/device/v1/commands/{command['command_id']}/ack", {"status": "ok"}, headers=device)
    return tenant


def by_lists(tenant: Tenant) -> int:
    """The baseline: count presence and delivered commands by paging the devices and each history."""
    delivered, token = 0, ""
    while True:
        page = tenant.call("get", "/customer/devices?limit=100" + (f"&next_token={token}" if token else ""))
        for device in page["devices"]:
            history = tenant.call("get", f"/customer/devices/{device['device_id']}/commands?limit=100")
            delivered += sum(1 for c in history if c["status"] == "delivered")
        token = page["next_token"]
        if not token:
            return delivered


def run(ctx: BenchContext) -> list[Table]:
    ctx.counter.attach_all()
    rows = []
    for devices in SIZES:
        tenant = fleet(ctx, devices)
        loads: list[tuple[str, Callable[[], Any]]] = [
            ("GET /customer/overview", lambda t=tenant: t.call("get", "/customer/overview")),
            ("baseline: devices list + each history", lambda t=tenant: by_lists(t))]
        for label, load in loads:
            rows.append([devices, label, *_measure(ctx, load)])
        overview = tenant.call("get", "/customer/overview")
        assert overview["commands"]["outcomes"]["delivered"] == by_lists(tenant)
    return [Table("DynamoDB requests and time per overview load (in-process, DynamoDB Local)",
                  ["devices", "load", "requests", "ms (best of 3)", "by operation"], rows, [
                      f"half the devices heard from, each with {COMMANDS_PER_DEVICE} ACKed commands; both loads "
                      "count the same delivered commands",
                      "overview: one paged Query per index (by_seen, twin_pending, settled) + one jobs Query; "
                      "a read stops at 5 pages (10 for commands) and says truncated",
                      "writes: the indexes ride on the UpdateItem each path already makes (ACK, expiry, "
                      "presence touch, twin write): no request is added to any write path",
                  ])]


def _measure(ctx: BenchContext, load: Callable[[], Any]) -> tuple[int, float, str]:
    best = float("inf")
    for _ in range(3):
        with ctx.counter.measure() as counts:
            start = time.perf_counter()
            load()
            best = min(best, (time.perf_counter() - start) * 1000)
    return sum(counts.values()), round(best, 1), describe(counts)
