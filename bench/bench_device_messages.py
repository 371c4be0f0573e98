"""Device-to-cloud messages: DynamoDB requests per message kind, and ACKs through the whole stack beside
the engine's raw single-item conditional-update rate, in the same run (the inputs of docs/scale.md)."""
from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from bench.bench_commands import _queued, _throughput
from bench.bench_jobs import GROUP, _auth
from bench.ddb_counter import describe
from bench.harness import BenchContext, Table, pick
from chalicelib.commands.models import CommandModel, device_key
from chalicelib.container import container
from chalicelib.core.topics import device_topic
from chalicelib.devices.schemas import CreateDevice

RAW_N = pick(5_000, 2_000)
# As many writers as the bridge has workers: the engine's rate at the concurrency the stack gets.
RAW_WORKERS = 8


def run(ctx: BenchContext) -> Iterator[Table]:
    ctx.counter.attach_all()
    yield _per_message(ctx)
    raw_rate = _raw_conditional_updates(ctx)
    through = _throughput(ctx)
    [[_, delivered, lost, _, _, rate]] = through.rows
    ratio = Table("ACKs through the whole local stack vs the engine's raw conditional-update rate (same run)",
                  ["what", "n", "per s", "ratio"],
                  [[f"raw UpdateItem (conditional, {RAW_WORKERS} threads)", RAW_N, raw_rate, 1.0],
                   [f"MQTT ACK -> broker -> bridge -> function -> delivered (lost {lost})", delivered, rate,
                    rate / raw_rate]],
                  ["target: ratio >= 0.60, 0 lost; the machine is shared and loaded, so rates vary run to run",
                   "raw: the same command items' status flipped by a conditional UpdateItem, nothing else"])
    yield ratio
    yield through


def _call(method: Callable[..., Any], path: str, token: str, body: dict[str, Any] | None = None) -> Any:
    """An operator request that must succeed; its JSON answer."""
    resp = method(path, headers=_auth(token), body=json.dumps(body).encode() if body else b"")
    if resp.status_code >= 300:
        raise RuntimeError(f"{path}: {resp.status_code} {resp.body[:200]!r}")
    return json.loads(resp.body) if resp.body else None


def _raw_conditional_updates(ctx: BenchContext) -> float:
    tenant, _ = ctx.new_tenant()
    commands = _queued(tenant, "raw-1", RAW_N)

    def flip(command_id: str) -> None:
        CommandModel(device_key(tenant, "raw-1"), command_id).update(
            actions=[CommandModel.status.set("delivered")], condition=CommandModel.status == "queued")

    started = time.perf_counter()
    with ThreadPoolExecutor(RAW_WORKERS) as pool:
        list(pool.map(flip, [c.command_id for c in commands]))
    return RAW_N / (time.perf_counter() - started)


def _per_message(ctx: BenchContext) -> Table:
    """Each message kind through the device-message function in-process: first of a device, then warm."""
    tenant, token = ctx.new_tenant()
    device_id = "msg-1"
    client = ctx.inprocess
    http_token = container().device_service.create(tenant, CreateDevice(device_id=device_id)).provision_token
    _call(client.http.post, "/customer/groups", token, {"group_id": GROUP, "name": "all"})
    _call(client.http.put, f"/customer/groups/{GROUP}/members/{device_id}", token)
    rows: list[list[Any]] = []

    def measure(label: str, fn: Callable[[], Any]) -> None:
        with ctx.counter.measure() as counts:
            outcome = fn()
        if isinstance(outcome, dict) and outcome.get("accepted") is False:
            raise RuntimeError(f"{label}: {outcome}")
        rows.append([label, sum(counts.values()), describe(counts)])

    def mqtt(suffix: str, body: dict[str, Any], sender: str = device_id) -> Callable[[], Any]:
        event = {"topic": device_topic(tenant, sender, suffix),
                 "payload_b64": base64.b64encode(json.dumps(body).encode()).decode()}
        return lambda: client.lambda_.invoke("device_message", event).payload

    def post(path: str, body: dict[str, Any]) -> Callable[[], Any]:
        headers = {"X-Provision-Token": http_token, "Content-Type": "application/json"}
        return lambda: json.loads(client.http.post(path, headers=headers, body=json.dumps(body).encode()).body)

    container().device_service.set_enabled(tenant, device_id, True)  # forget what setup read
    first, second, third, fourth = _queued(tenant, device_id, 4)
    measure("MQTT ACK, first message of the device in this process", mqtt("commands/ack", {
        "command_id": first.command_id, "status": "ok"}))
    measure("MQTT ACK, next one (presence read cached)", mqtt("commands/ack", {
        "command_id": second.command_id, "status": "ok"}))
    container().device_service.set_enabled(tenant, device_id, True)  # forget the token read too
    measure("HTTPS ACK, first request of the device in this process (token read)",
            post(f"/device/v1/commands/{third.command_id}/ack", {"status": "ok"}))
    measure("HTTPS ACK, next one (token read cached)", post(f"/device/v1/commands/{fourth.command_id}/ack",
                                                            {"status": "ok"}))
    twin = f"/customer/devices/{device_id}/twin/desired"

    def patch(version: int) -> Callable[[], Any]:
        body = json.dumps({"desired": {"fw": str(version)}}).encode()
        return lambda: json.loads(client.http.patch(twin, headers=_auth(token), body=body).body)

    for version in (1, 2):
        measure(f"operator PATCH .../twin/desired (v{version}: a twin change, per device)", patch(version))
        measure(f"MQTT twin report (shadow/reported, v{version})",
                mqtt("shadow/reported", {"reported": {"fw": str(version)}, "version": version}))
    other = "msg-2"  # a second target, so one finish leaves its job open and the other completes it
    container().device_service.create(tenant, CreateDevice(device_id=other))
    container().device_service.set_enabled(tenant, other, True)
    _call(client.http.put, f"/customer/groups/{GROUP}/members/{other}", token)
    mqtt("shadow/reported", {"reported": {"fw": "0"}, "version": 1}, other)()  # its presence read, unmeasured
    job = _call(client.http.post, "/customer/jobs", token, {
        "document_type": "update_firmware", "document_params": {"version": "2.1.0"}, "target_group_id": GROUP})
    update = f"jobs/{job['job_id']}/update"
    measure("MQTT job execution update (IN_PROGRESS: a start, the job's first message in this process)",
            mqtt(update, {"status": "IN_PROGRESS"}))
    measure("MQTT job execution update (IN_PROGRESS: a start, the job known)",
            mqtt(update, {"status": "IN_PROGRESS"}, other))
    measure("MQTT job execution update (IN_PROGRESS: a step with status details)",
            mqtt(update, {"status": "IN_PROGRESS", "status_details": {"step": "download"}}))
    measure("MQTT job execution update (SUCCEEDED, the job still open)", mqtt(update, {"status": "SUCCEEDED"}))
    measure("MQTT job execution update (SUCCEEDED, last of the job)", mqtt(update, {"status": "SUCCEEDED"}, other))
    second_job = _call(client.http.post, "/customer/jobs", token, {
        "document_type": "reboot", "document_params": {}, "target_group_id": GROUP})
    mqtt(f"jobs/{second_job['job_id']}/update", {"status": "SUCCEEDED"}, other)()  # so msg-1's finish is the last
    execution = f"/device/v1/jobs/{second_job['job_id']}/execution"

    def put(body: dict[str, Any]) -> Callable[[], Any]:
        headers = {"X-Provision-Token": http_token, "Content-Type": "application/json"}
        return lambda: json.loads(client.http.put(execution, headers=headers, body=json.dumps(body).encode()).body)

    measure("HTTPS job execution update (IN_PROGRESS: a start)", put({"status": "IN_PROGRESS"}))
    measure("HTTPS job execution update (IN_PROGRESS: a step with status details)",
            put({"status": "IN_PROGRESS", "status_details": {"step": "install"}}))
    measure("HTTPS job execution update (SUCCEEDED, last of the job)", put({"status": "SUCCEEDED"}))
    presence = container().settings.devices
    return Table("DynamoDB requests per device-to-cloud message (in-process)", ["message", "requests", "by operation"],
                 rows, [f"presence: the device's status and last seen are read once per process and "
                        f"{presence.presence_cache_s} s (FLEET_DEVICE_PRESENCE_CACHE_S); last seen is written at "
                        f"most once per {presence.last_seen_resolution_s} s, so a device reporting once a minute "
                        "pays the read and the presence write on most messages",
                        f"HTTPS: the provision token's owner is read once per process and "
                        f"{presence.token_cache_s} s (FLEET_DEVICE_TOKEN_CACHE_S): a device disabled, deleted or "
                        "rotated is refused at once by the process that changed it, by the others within that ttl",
                        f"job starts and steps: one TransactWriteItems (the execution, conditional on its status, "
                        f"version and reported fields, with a counter shard and the job's fence) on what the "
                        f"process knows: the job read once per process and "
                        f"{container().settings.jobs.state_cache_s:g} s (FLEET_JOB_STATE_CACHE_S), the execution "
                        f"as it last wrote it or as its job queued it; a stale guess costs the read and a 2nd write",
                        "job finishes read first (TransactGetItems of execution and job, a Query of the counter "
                        "shards' open counts): the last open execution completes the job in its own write; one that "
                        "leaves the job open reads the totals after it (GetItem + Query: a racing last finisher, "
                        "abort thresholds)",
                        "the AWS IoT jobs topics are served on this stage, so a start or a finish also reads the "
                        "device's other pending jobs (Query, + BatchGetItem when there are any) for notify / "
                        "notify-next; a step changes neither and reads nothing",
                        f"measured at {datetime.now(timezone.utc):%H:%M:%S} UTC on a shared machine"])
