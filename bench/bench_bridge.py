"""Device-to-cloud throughput through the MQTT bridge: messages/s, lost and duplicated.

Devices publish a burst of QoS 1 `status` messages; the bridge forwards each into the
device-message function (in-process invoker, moto's DynamoDB behind it) and acknowledges
it afterwards. For the run the stack's bridge is swapped for the same bridge with a
journal (same client id, so the same persistent session), which is what makes every
forwarded message countable; the stack's bridge is restored afterwards.
"""
from __future__ import annotations

import base64
import json
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from bench.ddb_counter import describe
from bench.harness import BenchContext, Table, pick
from chalicelib.core.identity import mqtt_username
from infra.local.bridge_journal import read_journal
from infra.local.processes import Child, python_module
from mqtt_bridge.invokers import InProcessInvoker, device_event

DEVICES = 25
RUNS = pick([(8, 5000), (1, 1000)], [(8, 1000), (1, 300)])  # (bridge workers, messages)
STALL_S = pick(30.0, 10.0)


def run(ctx: BenchContext) -> list[Table]:
    _tenant, token = ctx.new_tenant()
    http = ctx.http(token)
    creds = []
    for i in range(DEVICES):
        resp = http.post(f"{ctx.api_url}/customer/devices", json={"device_id": f"bb{i:03d}"})
        resp.raise_for_status()
        creds.append((resp.json()["tenant_id"], f"bb{i:03d}", resp.json()["provision_token"]))
    ctx.sync_broker()
    devices = [(f"tenant/{t}/device/{d}/status", _connect(ctx, mqtt_username(t, d), tok)) for t, d, tok in creds]
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-bridge-") as tmp:
            for workers, n in RUNS:
                journal = Path(tmp) / f"journal-{workers}.jsonl"
                with _journaled_bridge(ctx, journal, workers, Path(tmp) / "bridge.log"):
                    rows.append(_burst(devices, journal, workers, n))
    finally:
        for _, client in devices:
            client.disconnect()
            client.loop_stop()
    throughput = Table(
        f"Status messages through the bridge ({DEVICES} devices, QoS 1, burst)",
        ["bridge workers", "messages", "published/s", "forwarded/s", "lost", "duplicates", "drain s"], rows,
        ["forwarded/s = distinct messages forwarded and acked / time from first publish to last forward",
         "lost = published (PUBACKed by the broker) but never forwarded; must be 0"])
    return [throughput, _ddb_per_message(ctx, token)]


def _connect(ctx: BenchContext, username: str, token: str) -> mqtt.Client:
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=username,
                         protocol=mqtt.MQTTv311)
    client.username_pw_set(username, token)
    client.max_inflight_messages_set(100)
    client.connect(ctx.mqtt_host, ctx.mqtt_port, keepalive=60)
    client.loop_start()
    return client


@contextmanager
def _journaled_bridge(ctx: BenchContext, journal: Path, workers: int, log: Path) -> Iterator[Child]:
    """Replace the stack's bridge by the journaling one for the duration of the block."""
    stack_bridge = next((c for c in ctx.stack.children if c.name == "bridge"), None)
    if stack_bridge is None:
        yield from _journaling(ctx, journal, workers, log)
        return
    with ctx.stack.supervisor.holding("bridge"):  # the supervisor would restart it at once
        stack_bridge.stop()  # SIGTERM: it finishes in-flight messages and keeps its session
        try:
            yield from _journaling(ctx, journal, workers, log)
        finally:
            stack_bridge.start()


def _journaling(ctx: BenchContext, journal: Path, workers: int, log: Path) -> Iterator[Child]:
    env = {**ctx.stack.env(), "BRIDGE_WORKERS": str(workers), "BRIDGE_JOURNAL_PATH": str(journal),
           "BRIDGE_LOG_LEVEL": "WARNING"}
    child = Child("bridge-journal", python_module("infra.local.bridge_journal"), log, env).start()
    try:
        yield child
    finally:
        child.stop()


def _journal(journal: Path, run_id: str) -> tuple[dict[Any, float], int]:
    """This run's messages: seq -> when first forwarded, and how many burst lines (with repeats)."""
    first: dict[Any, float] = {}
    lines = 0
    for entry in read_journal(journal):
        body = json.loads(base64.b64decode(entry["payload_b64"]))
        if body.get("run") == run_id:
            # Warm-up messages are sent until one gets through: repeats are not duplicates.
            lines += body["seq"] != "warm-up"
            first.setdefault(body["seq"], entry["t"])
    return first, lines


def _burst(devices: list[tuple[str, mqtt.Client]], journal: Path, workers: int, n: int) -> list[Any]:
    run_id = uuid.uuid4().hex[:8]
    # Until the bridge has (re)subscribed a message could pass it by: warm up first.
    topic, first = devices[0]
    deadline = time.monotonic() + 30
    while "warm-up" not in _journal(journal, run_id)[0]:
        if time.monotonic() > deadline:
            raise RuntimeError("the journaling bridge never forwarded the warm-up message")
        first.publish(topic, json.dumps({"run": run_id, "seq": "warm-up"}), qos=1).wait_for_publish(5)
        time.sleep(0.3)
    started = time.time()
    infos = [devices[i % len(devices)][1].publish(devices[i % len(devices)][0],
                                                  json.dumps({"run": run_id, "seq": i}), qos=1)
             for i in range(n)]
    for info in infos:
        info.wait_for_publish(60)
    published = time.time()
    (seen, lines), last_progress = _journal(journal, run_id), time.monotonic()
    while len(seen) < n + 1 and time.monotonic() - last_progress < STALL_S:
        time.sleep(0.5)
        now, lines = _journal(journal, run_id)
        if len(now) > len(seen):
            last_progress = time.monotonic()
        seen = now
    forwarded = {k: t for k, t in seen.items() if k != "warm-up"}
    done = max(forwarded.values(), default=started)
    duplicates = lines - len(forwarded)
    return [workers, n, n / max(published - started, 1e-6), len(forwarded) / max(done - started, 1e-6),
            n - len(forwarded), duplicates, done - started]


def _ddb_per_message(ctx: BenchContext, token: str) -> Table:
    """What one forwarded status message costs in DynamoDB requests (counted in-process)."""
    device_id = f"bbx-{uuid.uuid4().hex[:6]}"
    resp = ctx.http(token).post(f"{ctx.api_url}/customer/devices", json={"device_id": device_id})
    resp.raise_for_status()
    event = device_event(f"tenant/{resp.json()['tenant_id']}/device/{device_id}/status", b'{"battery": 50}')
    invoker = InProcessInvoker()
    rows = []
    for label in ("status, first in the presence window", "status, again within the window"):
        with ctx.counter.measure() as counts:
            invoker.invoke(event)
        rows.append([label, sum(counts.values()), describe(counts)])
    return Table("DynamoDB requests per forwarded device message", ["message", "requests", "by operation"], rows,
                 ["last_seen_at is written at most once per FLEET_LAST_SEEN_RESOLUTION_S (default 60 s)"])
