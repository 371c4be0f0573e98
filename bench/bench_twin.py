"""Device twin: PATCH-to-device and report-to-synced latency over MQTT, DynamoDB requests per write."""
from __future__ import annotations

import base64
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import paho.mqtt.client as mqtt

from bench.ddb_counter import describe
from bench.harness import LATENCY_COLUMNS, BenchContext, Table, latency_row, pick
from chalicelib.container import container
from chalicelib.core.identity import mqtt_username
from chalicelib.twin.schemas import PatchDesired
from infra.local.simulator import DeviceIdentity, build_device

N = pick(100, 50)
CONCURRENT = 20


def run(ctx: BenchContext) -> list[Table]:
    tenant, token = ctx.new_tenant()
    http = ctx.http(token)
    created = http.post(f"{ctx.api_url}/customer/devices", json={"device_id": "twin-bench"})
    created.raise_for_status()
    device_token = created.json()["provision_token"]
    ctx.sync_broker()
    tables = [_latency(ctx, http, tenant, "twin-bench", device_token)]
    tables.append(_request_counts(ctx))
    return tables


def _latency(ctx: BenchContext, http: Any, tenant: str, device_id: str, device_token: str) -> Table:
    api = f"{ctx.api_url}/customer/devices/{device_id}/twin"
    desired_topic = f"tenant/{tenant}/device/{device_id}/shadow/desired"
    received: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
    device = _client(ctx, mqtt_username(tenant, device_id), device_token)
    device.message_callback_add(
        desired_topic, lambda c, u, m: received.put((time.perf_counter(), json.loads(m.payload))))
    _subscribe(device, desired_topic)
    patch_ms, to_device_ms = [], []
    for i in range(N):
        start = time.perf_counter()
        resp = http.patch(f"{api}/desired", json={"desired": {"seq": i}})
        patch_ms.append((time.perf_counter() - start) * 1000)
        resp.raise_for_status()
        version = resp.json()["desired_version"]
        at = _next(received, lambda p, v=version: p["version"] == v)
        to_device_ms.append((at - start) * 1000)
    rows = [latency_row("PATCH .../twin/desired (HTTP answer)", patch_ms),
            latency_row("PATCH -> device receives desired (MQTT)", to_device_ms)]
    notes = [f"chalice local over keep-alive HTTP, Mosquitto on loopback, {N} sequential PATCHes"]
    if any(c.name == "bridge" for c in ctx.stack.children):
        report_ms = _report_to_synced(ctx, http, api, device, tenant, device_id)
        rows.append(latency_row("device report (MQTT) -> twin synced, via the bridge", report_ms))
        rows.append(latency_row("PATCH -> simulated device -> synced (full loop)",
                                _full_loop(ctx, http, tenant)))
        notes.append("synced is detected by polling GET .../twin/delta every 5 ms (adds up to ~5 ms + one GET)")
    else:
        notes.append("report -> synced over MQTT not measured: no MQTT bridge in this stack")
    device.disconnect()
    device.loop_stop()
    return Table("Device twin latency", LATENCY_COLUMNS, rows, notes)


def _report_to_synced(ctx: BenchContext, http: Any, api: str, device: mqtt.Client, tenant: str,
                      device_id: str) -> list[float]:
    samples = []
    reported_topic = f"tenant/{tenant}/device/{device_id}/shadow/reported"
    for _ in range(N // 2):
        mode = time.time_ns() % 2**53  # JSON integers beyond 2^53 are refused
        version = http.patch(f"{api}/desired", json={"desired": {"mode": mode}}).json()["desired_version"]
        start = time.perf_counter()
        device.publish(reported_topic, json.dumps({"reported": {"mode": version}, "version": version}), qos=1)
        _poll(lambda v=version: http.get(f"{api}/delta").json()["reported_version"] >= v)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _full_loop(ctx: BenchContext, http: Any, tenant: str) -> list[float]:
    """The demo's promise: a PATCH goes pending -> synced with a simulated device answering."""
    resp = http.post(f"{ctx.api_url}/customer/devices", json={"device_id": "twin-sim"})
    resp.raise_for_status()
    ctx.sync_broker()
    sim = build_device(DeviceIdentity(tenant, "twin-sim", resp.json()["provision_token"]), ctx.mqtt_host,
                       ctx.mqtt_port, ctx.api_url, heartbeat_s=3600).start()
    sim.connected.wait(10)
    api = f"{ctx.api_url}/customer/devices/twin-sim/twin"
    samples = []
    try:
        for i in range(N // 4):
            start = time.perf_counter()
            version = http.patch(f"{api}/desired", json={"desired": {"seq": i}}).json()["desired_version"]
            _poll(lambda v=version: http.get(f"{api}/delta").json()["reported_version"] >= v)
            samples.append((time.perf_counter() - start) * 1000)
    finally:
        sim.stop()
    return samples


def _request_counts(ctx: BenchContext) -> Table:
    """In-process, where botocore's hooks see every DynamoDB request."""
    tenant, token = ctx.new_tenant()
    client = ctx.inprocess
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else b""
        resp = getattr(client.http, method)(path, headers=headers or auth, body=data)
        if resp.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {resp.status_code} {resp.body[:200]!r}")
        return json.loads(resp.body)

    def mqtt_report(payload: dict[str, Any]) -> Any:
        event = {"topic": f"tenant/{tenant}/device/d/shadow/reported",
                 "payload_b64": base64.b64encode(json.dumps(payload).encode()).decode()}
        return client.lambda_.invoke("device_message", event).payload

    rows: list[list[Any]] = []

    def measure(label: str, fn: Callable[[], Any], per: int = 1) -> Any:
        with ctx.counter.measure() as counts:
            result = fn()
        rows.append([label, sum(counts.values()) / per, describe(counts, per)])
        return result

    device_token = call("post", "/customer/devices", {"device_id": "d"})["provision_token"]
    dev = {"X-Provision-Token": device_token, "Content-Type": "application/json"}
    twin = "/customer/devices/d/twin"
    call("post", "/device/v1/heartbeat", headers=dev)  # presence is recorded: later calls are steady-state
    measure("PATCH .../twin/desired", lambda: call("patch", f"{twin}/desired", {"desired": {"a": 1}}))
    measure("GET .../twin", lambda: call("get", twin))
    measure("GET .../twin/delta", lambda: call("get", f"{twin}/delta"))
    measure("GET /device/v1/shadow", lambda: call("get", "/device/v1/shadow", headers=dev))
    measure("POST /device/v1/shadow/reported",
            lambda: call("post", "/device/v1/shadow/reported", {"reported": {"a": 1}, "version": 1}, headers=dev))
    measure("  same report again (duplicate)",
            lambda: call("post", "/device/v1/shadow/reported", {"reported": {"a": 1}, "version": 1}, headers=dev))
    call("patch", f"{twin}/desired", {"desired": {"a": 2}})
    measure("MQTT shadow/reported (device-message Lambda)", lambda: mqtt_report({"reported": {"a": 2}, "version": 2}))
    service = container().twin_service

    def burst() -> None:
        gate = threading.Barrier(CONCURRENT)

        def one(i: int) -> None:
            gate.wait()
            service.patch_desired(tenant, "d", PatchDesired(desired={f"k{i}": i}))

        # 20 threads share botocore's pool of 10 connections: expected, so not worth a warning each.
        logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
        with ThreadPoolExecutor(CONCURRENT) as pool:
            list(pool.map(one, range(CONCURRENT)))

    measure(f"PATCH, {CONCURRENT} at once on one device (per PATCH)", burst, per=CONCURRENT)
    return Table("DynamoDB requests per twin operation", ["operation", "requests", "by operation"], rows, [
        "device routes: GetItem of the token (auth); the first request in a minute adds 2 UpdateItems (presence)",
        "MQTT: the router's device lookup (GetItem) + the twin read + one UpdateItem",
        "contention: each lost race costs one more GetItem + UpdateItem; no write is ever lost",
        "counts are process-wide: a stray Query comes from the stack's background threads (credential sync, scheduler)",
    ])


def _client(ctx: BenchContext, username: str, password: str) -> mqtt.Client:
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.username_pw_set(username, password)
    connected = threading.Event()
    client.on_connect = lambda c, u, f, rc, p: connected.set() if not rc.is_failure else None
    client.connect(ctx.mqtt_host, ctx.mqtt_port, keepalive=30)
    client.loop_start()
    if not connected.wait(10):
        raise RuntimeError(f"{username} could not connect to the broker")
    return client


def _subscribe(client: mqtt.Client, topic: str) -> None:
    done = threading.Event()
    client.on_subscribe = lambda *a: done.set()
    client.subscribe(topic, qos=1)
    if not done.wait(5):
        raise RuntimeError(f"no SUBACK for {topic}")


def _next(messages: queue.Queue[tuple[float, dict[str, Any]]], match: Callable[[dict[str, Any]], bool]) -> float:
    """When the first message matching `match` arrived."""
    while True:
        at, payload = messages.get(timeout=10)
        if match(payload):
            return at


def _poll(done: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("twin did not sync")
        time.sleep(0.005)
