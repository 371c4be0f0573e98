"""Device-to-cloud throughput through the MQTT bridge: messages/s, lost and duplicated.

Devices publish a burst of QoS 1 `status` messages; the bridge forwards them in batches into
the device-message function (in-process invoker, moto's DynamoDB behind it) and acknowledges
each once the function took it. For the run the stack's bridge is swapped for the same
bridge with a journal (same client id, so the same persistent session), which is what makes
every forwarded message countable; the stack's bridge is restored afterwards.

The second table measures the bridge alone: its invoker only counts (journals) the messages,
one bridge and then two in one share group ($share/...), beside the rate at which Mosquitto
accepted the same burst's publishes; then a backlog queued while one, then two, bridges were away
(an outage) and drained once they start, since in a live burst of this machine's publishers one
bridge keeps up and a second has nothing to take; then two again, one of them SIGKILLed mid-burst and started
again on its persistent session (issue 29: 0 lost of a 10,000-message burst; redeliveries of what
the killed bridge had not acknowledged show as duplicates).
"""
from __future__ import annotations

import base64
import json
import signal
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from bench.bridge_processes import bridge_ids, counting_bridges, holding_stack_bridge, journaled_bridge, park_session
from bench.ddb_counter import describe
from bench.harness import BenchContext, Table, pick
from chalicelib.core.identity import mqtt_username
from infra.local.bridge_journal import read_journal
from infra.local.processes import Child
from mqtt_bridge.invokers import InProcessInvoker, device_event

DEVICES = 25
# (bridge workers, messages per invoke at most, messages); batches of 1 are the per-message baseline
RUNS = pick([(8, 1, 5000), (8, 25, 5000), (1, 25, 1000)], [(8, 1, 1000), (8, 25, 1000), (1, 25, 300)])
SCALE_MESSAGES = pick(10000, 3000)  # per counting run (one bridge, then two)
STALL_S = pick(30.0, 10.0)
BACKLOG_MESSAGES = pick(20000, 10000)  # queued while the bridges are away, then drained by one, then two
KILL_MESSAGES = 10_000  # the counting bridges take it in seconds: the size even in a quick run


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
    rows, scale = [], []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-bridge-") as tmp:
            for workers, batch_max, n in RUNS:
                journal = Path(tmp) / f"journal-{workers}-{batch_max}.jsonl"
                with journaled_bridge(ctx, journal, workers, batch_max, Path(tmp) / "bridge.log"):
                    rows.append([workers, batch_max, *_burst(devices, [journal], n)])
            with holding_stack_bridge(ctx):
                for count in (1, 2):
                    journals = [Path(tmp) / f"count-{count}-{i}.jsonl" for i in range(count)]
                    with counting_bridges(ctx, journals, Path(tmp)):
                        scale.append([str(count), *_burst(devices, journals, SCALE_MESSAGES)])
                for count in (1, 2):
                    journals = [Path(tmp) / f"backlog-{count}-{i}.jsonl" for i in range(count)]
                    scale.append([f"{count}, draining a backlog", *_backlog(ctx, devices, journals, Path(tmp))])
                journals = [Path(tmp) / f"kill-{i}.jsonl" for i in range(2)]
                with counting_bridges(ctx, journals, Path(tmp)) as bridges:
                    kill = _KillOne(bridges, journals)
                    killed = _burst(devices, journals, KILL_MESSAGES, kill)
                    scale.append([f"2, one SIGKILLed at {kill.at_kill:,} forwarded", *killed])
    finally:
        for _, client in devices:
            client.disconnect()
            client.loop_stop()
    throughput = Table(
        f"Status messages through the bridge ({DEVICES} devices, QoS 1, burst)",
        ["bridge workers", "batch max", "messages", "published/s", "forwarded/s", "lost", "duplicates", "drain s"],
        rows,
        ["forwarded/s = distinct messages forwarded and acked / time from first publish to last forward",
         "lost = published (PUBACKed by the broker) but never forwarded; must be 0"])
    for row in scale:
        row.insert(4, row[3] / max(row[2], 1e-6))
        one = scale[2] if "backlog" in row[0] else scale[0]  # a backlog's drain beside one bridge's drain
        row.insert(5, row[3] / max(one[3], 1e-6))
    alone = Table(
        f"The bridge alone: batches into a counting invoker, 1 vs 2 bridges in a share group ({DEVICES} devices)",
        ["bridges", "messages", "mosquitto accepted/s", "forwarded/s", "vs accepted", "vs 1 bridge", "lost",
         "duplicates", "drain s"], scale,
        ["mosquitto accepted/s = the devices' QoS 1 publishes PUBACKed by the broker per second, same burst",
         "the invoker journals each message and answers at once: no function, no DynamoDB",
         "SIGKILLed: once it forwarded a twentieth of the burst, then started again on its session; lost must be 0",
         "draining a backlog: the burst was queued in the bridges' sessions while they were away (an outage), "
         "then they started: forwarded/s from the first forward to the last; in a live burst one bridge already "
         "keeps up with what the devices publish, so a second has nothing to add there",
         "8 workers, BRIDGE_BATCH_MAX 25, BRIDGE_BATCH_WAIT_MS 5 (the defaults); 2 cores shared by everything"])
    return [throughput, alone, _ddb_per_message(ctx, token)]


def _connect(ctx: BenchContext, username: str, token: str) -> mqtt.Client:
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=username,
                         protocol=mqtt.MQTTv311)
    client.username_pw_set(username, token)
    client.max_inflight_messages_set(100)
    client.connect(ctx.mqtt_host, ctx.mqtt_port, keepalive=60)
    client.loop_start()
    return client


class _KillOne:
    """SIGKILLs the first bridge once it forwarded a twentieth of the burst (`watch`, beside the publishing), then
    starts it again on its session (`recover`, from the main thread: a child started from a thread that ends is
    killed with it, see processes.py)."""

    def __init__(self, bridges: list[Child], journals: list[Path]) -> None:
        self.bridges, self.journals = bridges, journals
        self.at_kill = -1  # messages both had forwarded at the kill: it must come mid-burst

    def watch(self, run_id: str, n: int) -> None:
        deadline = time.monotonic() + 60
        while _lines(self.journals[0]) < n // 20:  # counted, not parsed: the burst outruns a parse of the journal
            if time.monotonic() > deadline:
                raise RuntimeError("the bridge to kill never took a twentieth of the burst")
            time.sleep(0.005)
        victim = self.bridges[0]
        victim.signal(signal.SIGKILL)
        assert victim.proc is not None
        victim.proc.wait(5)
        self.at_kill = len(_journal(self.journals, run_id)[0]) - 1  # not the warm-up
        if self.at_kill >= n:
            raise RuntimeError("the kill came after the whole burst was forwarded")

    def recover(self) -> None:
        if self.at_kill < 0:
            raise RuntimeError("the bridge was never killed")
        self.bridges[0].start()


def _lines(journal: Path) -> int:
    with open(journal, "rb") as f:
        return sum(1 for _ in f)


def _backlog(ctx: BenchContext, devices: list[tuple[str, mqtt.Client]], journals: list[Path],
             tmp: Path) -> list[Any]:
    """Queue a burst in the sessions of len(journals) bridges that are away, then start them and time the drain."""
    ids = bridge_ids(len(journals))
    for client_id in ids[0]:
        park_session(ctx, client_id, ids[1])
    run_id = uuid.uuid4().hex[:8]
    started = time.time()
    infos = [devices[i % len(devices)][1].publish(devices[i % len(devices)][0],
                                                  json.dumps({"run": run_id, "seq": i}), qos=1)
             for i in range(BACKLOG_MESSAGES)]
    for info in infos:
        info.wait_for_publish(60)
    accepted = BACKLOG_MESSAGES / max(time.time() - started, 1e-6)
    with counting_bridges(ctx, journals, tmp, ids):
        (seen, lines), last_progress = _journal(journals, run_id), time.monotonic()
        while len(seen) < BACKLOG_MESSAGES and time.monotonic() - last_progress < STALL_S:
            time.sleep(0.2)
            now, lines = _journal(journals, run_id)
            if len(now) > len(seen):
                last_progress = time.monotonic()
            seen = now
    first, last = min(seen.values(), default=0.0), max(seen.values(), default=0.0)
    return [BACKLOG_MESSAGES, accepted, len(seen) / max(last - first, 1e-6), BACKLOG_MESSAGES - len(seen),
            lines - len(seen), last - first]


def _journal(journals: list[Path], run_id: str) -> tuple[dict[Any, float], int]:
    """This run's messages: seq -> when first forwarded, and how many burst lines (with repeats)."""
    first: dict[Any, float] = {}
    lines = 0
    for entry in (e for journal in journals for e in read_journal(journal)):
        body = json.loads(base64.b64decode(entry["payload_b64"]))
        if body.get("run") == run_id:
            # Warm-up messages are sent until one gets through: repeats are not duplicates.
            lines += body["seq"] != "warm-up"
            first.setdefault(body["seq"], entry["t"])
    return first, lines


def _burst(devices: list[tuple[str, mqtt.Client]], journals: list[Path], n: int,
           kill: _KillOne | None = None) -> list[Any]:
    """Publish n messages, then wait for the journals; `kill` watches beside the publishing."""
    run_id = uuid.uuid4().hex[:8]
    # Until each bridge has (re)subscribed a message could pass it by: warm up first.
    topic, first = devices[0]
    deadline = time.monotonic() + 30
    while not all("warm-up" in _journal([journal], run_id)[0] for journal in journals):
        if time.monotonic() > deadline:
            raise RuntimeError("a journaling bridge never forwarded the warm-up message")
        first.publish(topic, json.dumps({"run": run_id, "seq": "warm-up"}), qos=1).wait_for_publish(5)
        time.sleep(0.3)
    watch = threading.Thread(target=kill.watch, args=(run_id, n)) if kill is not None else None
    if watch is not None:
        watch.start()  # before the publishes: queueing them takes about as long as the bridges take them
    started = time.time()
    infos = [devices[i % len(devices)][1].publish(devices[i % len(devices)][0],
                                                  json.dumps({"run": run_id, "seq": i}), qos=1)
             for i in range(n)]
    if watch is not None and kill is not None:
        watch.join(90)
        kill.recover()
    for info in infos:
        info.wait_for_publish(60)
    published = time.time()
    (seen, lines), last_progress = _journal(journals, run_id), time.monotonic()
    while len(seen) < n + 1 and time.monotonic() - last_progress < STALL_S:
        time.sleep(0.5)
        now, lines = _journal(journals, run_id)
        if len(now) > len(seen):
            last_progress = time.monotonic()
        seen = now
    forwarded = {k: t for k, t in seen.items() if k != "warm-up"}
    done = max(forwarded.values(), default=started)
    duplicates = lines - len(forwarded)
    return [n, n / max(published - started, 1e-6), len(forwarded) / max(done - started, 1e-6),
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
