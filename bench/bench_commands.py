"""Commands: POST-to-device latency, ACK-to-delivered latency and ACK throughput through the
bridge, and DynamoDB requests per POST, per ACK and per expired command."""
from __future__ import annotations

import base64
import json
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import paho.mqtt.client as mqtt
from ulid import ULID

from bench.ddb_counter import describe
from bench.harness import LATENCY_COLUMNS, BenchContext, Table, latency_row, pick
from chalicelib.commands.models import CommandModel, CommandRef, device_key
from chalicelib.commands.schemas import Command, CommandStatus
from chalicelib.container import container
from chalicelib.core.identity import mqtt_username
from chalicelib.core.topics import device_topic
from chalicelib.devices.schemas import CreateDevice

LATENCY_N = pick(500, 150)
ACK_LATENCY_N = pick(200, 100)
THROUGHPUT_DEVICES = 20
THROUGHPUT_PER_DEVICE = pick(250, 50)  # 5,000 (quick: 1,000) ACKs in all
EXPIRY_N = pick(200, 100)
REPEAT = pick(5, 2)


class Device:
    """A device's own MQTT connection that records what arrives on its command topic."""

    def __init__(self, ctx: BenchContext, tenant_id: str, device_id: str, token: str) -> None:
        self.tenant_id, self.device_id = tenant_id, device_id
        self.received: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=mqtt_username(tenant_id, device_id), protocol=mqtt.MQTTv311)
        self.client.username_pw_set(mqtt_username(tenant_id, device_id), token)
        self.client.max_inflight_messages_set(100)
        self.client.on_message = lambda c, u, m: self.received.put((time.perf_counter(), json.loads(m.payload)))
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.connect(ctx.mqtt_host, ctx.mqtt_port, keepalive=60)
        self.client.loop_start()
        self.client.subscribe(device_topic(tenant_id, device_id, "commands"), qos=1)
        if not self._subscribed.wait(10):
            raise RuntimeError(f"{device_id} could not subscribe")

    def ack(self, command_id: str, qos: int = 1) -> mqtt.MQTTMessageInfo:
        body = {"command_id": command_id, "status": "ok", "details": {"message": "pong"}}
        return self.client.publish(device_topic(self.tenant_id, self.device_id, "commands/ack"),
                                   json.dumps(body), qos=qos)

    def hello(self) -> None:
        """One status message, as a device sends when it comes online."""
        self.client.publish(device_topic(self.tenant_id, self.device_id, "status"), "{}", qos=1).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _devices(ctx: BenchContext, tenant_id: str, count: int, prefix: str) -> list[Device]:
    service = container().device_service
    created = [(f"{prefix}{i:03d}", service.create(tenant_id, CreateDevice(device_id=f"{prefix}{i:03d}")))
               for i in range(count)]
    ctx.sync_broker()
    return [Device(ctx, tenant_id, device_id, c.provision_token) for device_id, c in created]


def _queued(tenant_id: str, device_id: str, count: int) -> list[Command]:
    """Commands written straight to the table (batch writes), published by nobody."""
    now = datetime.now(timezone.utc)
    commands = [Command(command_id=str(ULID()).lower(), tenant_id=tenant_id, device_id=device_id,
                        command_type="ping", created_at=now, created_by="bench", expires_at=now + timedelta(hours=1))
                for _ in range(count)]
    container().command_repository.create_many(commands, retry_at=None)
    return commands


def _status(tenant_id: str, device_id: str, command_id: str) -> CommandStatus | None:
    found = container().command_repository.get(CommandRef(tenant_id, device_id, command_id))
    return found.status if found else None


def _wait(predicate: Callable[[], bool], timeout: float, interval: float = 0.002) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def _bridge_running(ctx: BenchContext) -> bool:
    return any(c.name == "bridge" and c.alive() for c in ctx.stack.children)


def post_to_device_latency(ctx: BenchContext) -> Table:
    """POST over keep-alive HTTP, then wait for the device's client to receive the command."""
    tenant_id, token = ctx.new_tenant()
    [device] = _devices(ctx, tenant_id, 1, "lat-")
    http = ctx.http(token)
    url = f"{ctx.api_url}/customer/devices/{device.device_id}/commands"
    post_ms, receive_ms, unpublished = [], [], 0
    for i in range(LATENCY_N):
        start = time.perf_counter()
        resp = http.post(url, json={"command_type": "noop", "command_params": {"seq": i}})
        post_ms.append((time.perf_counter() - start) * 1000)
        body = resp.json()
        if resp.status_code != 201:
            raise RuntimeError(f"POST answered {resp.status_code}: {body}")
        unpublished += not body["mqtt_published"]
        arrived, payload = device.received.get(timeout=10)
        if payload["command_id"] != body["command_id"]:
            raise RuntimeError("commands arrived out of order")
        receive_ms.append((arrived - start) * 1000)
    device.close()
    return Table(f"Command latency over the local stack ({LATENCY_N} commands, one at a time)", LATENCY_COLUMNS, [
        latency_row("POST /customer/devices/{id}/commands (HTTP answer)", post_ms),
        latency_row("POST start -> device receives it on MQTT", receive_ms),
    ], [f"answered mqtt_published=false: {unpublished}"])


def ack_latency_and_throughput(ctx: BenchContext) -> list[Table]:
    """ACKs published by devices, through the broker and the bridge into the device-message function."""
    if not _bridge_running(ctx):
        return [Table("ACK through the bridge", ["result"], [["skipped: the bridge is not running"]])]
    tenant_id, _ = ctx.new_tenant()
    [device] = _devices(ctx, tenant_id, 1, "ack-")
    latency = []
    for command in _queued(tenant_id, device.device_id, ACK_LATENCY_N):
        start = time.perf_counter()
        device.ack(command.command_id)
        if not _wait(lambda c=command: _status(tenant_id, device.device_id, c.command_id) is CommandStatus.DELIVERED,
                     10):
            raise RuntimeError(f"ACK of {command.command_id} was not applied within 10 s")
        latency.append((time.perf_counter() - start) * 1000)
    device.close()
    lat_table = Table(f"ACK -> delivered over MQTT and the bridge ({ACK_LATENCY_N} ACKs, one at a time)",
                      LATENCY_COLUMNS, [latency_row("device publishes ACK -> status delivered", latency)],
                      ["measured by reading the command every ~2 ms; includes one GetItem of polling"])
    return [lat_table, _throughput(ctx)]


def _throughput(ctx: BenchContext) -> Table:
    tenant_id, _ = ctx.new_tenant()
    devices = _devices(ctx, tenant_id, THROUGHPUT_DEVICES, "tp-")
    # Each device is heard from before its commands are queued: a device's first message after an
    # absence has its queued commands sent again (one publish and one UpdateItem each), and that
    # one-time cost of a returning device (the per-message table's first ACK) is not an ACK's.
    for device in devices:
        device.hello()
    if not _wait(lambda: all(container().device_service.get(tenant_id, d.device_id).last_seen_at for d in devices),
                 30, 0.2):
        raise RuntimeError("the devices' hello never reached the registry")
    work = {d.device_id: _queued(tenant_id, d.device_id, THROUGHPUT_PER_DEVICE) for d in devices}
    total = sum(len(v) for v in work.values())

    def remaining() -> int:
        return sum(CommandModel.queued_by_device.count(device_key(tenant_id, d)) for d in work)

    start, started_at = time.perf_counter(), time.time()
    infos = []
    for device in devices:  # interleaved publishing, every device at once
        infos += [device.ack(c.command_id) for c in work[device.device_id]]
    for info in infos:
        info.wait_for_publish(30)
    published_s = time.perf_counter() - start
    last, last_change = total, time.monotonic()
    while True:
        left = remaining()
        if left == 0:
            break
        if left != last:
            last, last_change = left, time.monotonic()
        elif time.monotonic() - last_change > 30:
            break  # no progress for 30 s: whatever is left is lost
        time.sleep(2.0)  # the count reads the queued index: keep it off the bridge's path
    elapsed = time.perf_counter() - start
    for device in devices:
        device.close()
    delivered = total - left
    if left == 0:  # the last ACK's own time, not the poll that saw it (up to 2 s later)
        acked = [m.acked_at for d in work for m in CommandModel.query(device_key(tenant_id, d)) if m.acked_at]
        elapsed = max(acked).timestamp() - started_at
    return Table(f"ACK throughput through the bridge ({THROUGHPUT_DEVICES} devices x {THROUGHPUT_PER_DEVICE} ACKs)",
                 ["ACKs sent", "delivered", "lost", "devices published in s", "all delivered in s", "ACKs/s"],
                 [[total, delivered, total - delivered, published_s, elapsed, delivered / elapsed]],
                 ["QoS 1 from the devices; all delivered = the last command's acked_at (completion polled every 2 s)",
                  "each device sent one status message before its commands were queued, so no ACK is a "
                  "returning device's first message (that one also sends its queued commands again)"])


def request_counts(ctx: BenchContext) -> Table:
    """The same operations in-process, where botocore's hooks see every DynamoDB request.

    Each operation is measured REPEAT times on fresh data and the smallest count kept: the
    stack's credential sync polls from a thread of this process and would add strays.
    """
    tenant_id, token = ctx.new_tenant()
    device_id = "count-1"
    created = container().device_service.create(tenant_id, CreateDevice(device_id=device_id))
    client = ctx.inprocess
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    dev = {"X-Provision-Token": created.provision_token, "Content-Type": "application/json"}
    rows: list[list[Any]] = []

    def measure(label: str, prepare: Callable[[int], Callable[[], Any]]) -> None:
        best: Counter[str] | None = None
        for i in range(REPEAT):
            operation = prepare(i)
            with ctx.counter.measure() as counts:
                operation()
            if best is None or sum(counts.values()) < sum(best.values()):
                best = counts
        assert best is not None
        rows.append([label, sum(best.values()), describe(best)])

    def call(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        resp = getattr(client.http, method)(path, headers=headers or auth,
                                            body=json.dumps(body).encode() if body is not None else b"")
        return json.loads(resp.body)

    path = f"/customer/devices/{device_id}/commands"
    ping = {"command_type": "ping", "command_params": {}}

    def fresh() -> str:
        return str(call("post", path, ping)["command_id"])

    def mqtt_ack(command_id: str) -> dict[str, Any]:
        payload = json.dumps({"command_id": command_id, "status": "ok"}).encode()
        return {"topic": device_topic(tenant_id, device_id, "commands/ack"),
                "payload_b64": base64.b64encode(payload).decode()}

    measure("POST .../commands", lambda i: lambda: call("post", path, ping))
    measure("POST .../commands with client_token",
            lambda i: lambda: call("post", path, {**ping, "client_token": f"c-{i}"}))
    measure("POST .../commands, same client_token again",
            lambda i: lambda: call("post", path, {**ping, "client_token": "c-0"}))
    measure("GET .../commands?limit=50", lambda i: lambda: call("get", f"{path}?limit=50"))
    def poll_one_new(i: int) -> Callable[[], Any]:
        fresh()
        return lambda: call("get", "/device/v1/commands/pending", headers=dev)

    def http_ack(i: int) -> Callable[[], Any]:
        command_id = fresh()
        return lambda: call("post", f"/device/v1/commands/{command_id}/ack", {"status": "ok"}, dev)

    def bridged_ack(i: int) -> Callable[[], Any]:
        event = mqtt_ack(fresh())
        return lambda: client.lambda_.invoke("device_message", event).payload

    measure("GET /device/v1/commands/pending (one new command)", poll_one_new)
    measure("POST /device/v1/commands/{id}/ack", http_ack)
    measure("MQTT ACK in the device-message function", bridged_ack)
    for _ in range(EXPIRY_N):
        call("post", path, {**ping, "expires_in_minutes": 1})
    # Everything still queued in the stack expires in this run (the latency commands too).
    with ctx.counter.measure() as counts:
        report = container().command_expiry.expire_due(datetime.now(timezone.utc) + timedelta(days=1))
    closed = max(1, report.missed + report.expired)
    rows.append([f"per-minute expiry, per command closed ({closed} closed in one run)",
                 round(sum(counts.values()) / closed, 3), describe(counts, closed)])
    return Table("DynamoDB requests per command operation", ["operation", "requests", "by operation"], rows, [
        f"fewest of {REPEAT} runs each (a background credential sync in this process adds strays)",
        "POST = TransactWrite (device check + command [+ client token]) + UpdateItem(published_at)",
        "device routes: one GetItem resolves the provision token; the MQTT path's GetItem is the router's "
        "device check; either writes presence at most once a minute",
        f"expiry: {container().settings.schedule_shards} index queries a run, shared by everything that expired; "
        "a stray GetItem there is the credential sync",
    ])


def run(ctx: BenchContext) -> list[Table]:
    ctx.counter.attach_all()
    tables = [post_to_device_latency(ctx)]
    tables += ack_latency_and_throughput(ctx)
    tables.append(request_counts(ctx))
    return tables
