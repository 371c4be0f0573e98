"""Registry routes: latency through chalice local over keep-alive HTTP, DynamoDB requests per route."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from bench.ddb_counter import describe
from bench.harness import LATENCY_COLUMNS, BenchContext, Table, latency_row, pick

N = pick(200, 100)


def _timed(samples: list[float], call: Callable[[], Any], expect: int) -> Any:
    start = time.perf_counter()
    resp = call()
    samples.append((time.perf_counter() - start) * 1000)
    if resp.status_code != expect:
        raise RuntimeError(f"unexpected {resp.status_code}: {resp.text[:200]}")
    return resp


def run(ctx: BenchContext) -> list[Table]:
    _tenant, token = ctx.new_tenant()
    http = ctx.http(token)
    api = ctx.api_url
    lat: dict[str, list[float]] = {k: [] for k in ("create", "get", "list", "member", "heartbeat", "rotate")}
    http.post(f"{api}/customer/groups", json={"group_id": "g", "name": "G"}).raise_for_status()
    tokens = []
    for i in range(N):
        body = {"device_id": f"d{i:04d}"}
        r = _timed(lat["create"], lambda body=body: http.post(f"{api}/customer/devices", json=body), 201)
        tokens.append(r.json()["provision_token"])
    for i in range(N):
        _timed(lat["get"], lambda i=i: http.get(f"{api}/customer/devices/d{i:04d}"), 200)
        _timed(lat["member"], lambda i=i: http.put(f"{api}/customer/groups/g/members/d{i:04d}"), 201)
        _timed(lat["list"], lambda: http.get(f"{api}/customer/devices?limit=50"), 200)
    for tok in tokens:
        dev = ctx.device_http(tok)
        _timed(lat["heartbeat"], lambda dev=dev: dev.post(f"{api}/device/v1/heartbeat"), 200)
    for i in range(50):
        _timed(lat["rotate"], lambda i=i: http.post(f"{api}/customer/devices/d{i:04d}/token"), 201)

    latency = Table(f"Registry latency through chalice local (keep-alive, {N} calls each)", LATENCY_COLUMNS, [
        latency_row("POST /customer/devices", lat["create"]),
        latency_row("GET /customer/devices/{id}", lat["get"]),
        latency_row("GET /customer/devices?limit=50", lat["list"]),
        latency_row("PUT /customer/groups/{g}/members/{id}", lat["member"]),
        latency_row("POST /customer/devices/{id}/token", lat["rotate"]),
        latency_row("POST /device/v1/heartbeat", lat["heartbeat"]),
    ])
    return [latency, _request_counts(ctx)]


def _request_counts(ctx: BenchContext) -> Table:
    """The same routes in-process, where botocore's hooks see every DynamoDB request."""
    _tenant, token = ctx.new_tenant()
    client = ctx.inprocess
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        resp = getattr(client.http, method)(path, headers=headers or auth,
                                            body=json.dumps(body).encode() if body is not None else b"")
        return json.loads(resp.body)

    rows = []

    def measure(label: str, fn: Callable[[], Any]) -> Any:
        with ctx.counter.measure() as counts:
            result = fn()
        rows.append([label, sum(counts.values()), describe(counts)])
        return result

    call("post", "/customer/groups", {"group_id": "g", "name": "G"})
    created = measure("POST /customer/devices", lambda: call("post", "/customer/devices", {"device_id": "x"}))
    measure("GET /customer/devices/{id}", lambda: call("get", "/customer/devices/x"))
    measure("GET /customer/devices?limit=50", lambda: call("get", "/customer/devices?limit=50"))
    measure("PUT /customer/groups/{g}/members/{id}", lambda: call("put", "/customer/groups/g/members/x"))
    dev = {"X-Provision-Token": created["provision_token"]}
    measure("POST /device/v1/heartbeat (first in a minute)", lambda: call("post", "/device/v1/heartbeat", headers=dev))
    measure("POST /device/v1/heartbeat (again)", lambda: call("post", "/device/v1/heartbeat", headers=dev))
    measure("POST /customer/devices/{id}/token", lambda: call("post", "/customer/devices/x/token"))
    measure("DELETE /customer/devices/{id}", lambda: call("delete", "/customer/devices/x"))
    return Table("DynamoDB requests per registry route", ["route", "requests", "by operation"], rows,
                 ["create/rotate/delete include one UpdateItem of the broker-credential epoch counter"])
