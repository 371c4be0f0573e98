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
    for method, path, body in (("post", "/customer/groups", {"group_id": GROUP, "name": "all"}),
                               ("put", f"/customer/groups/{GROUP}/members/{device_id}", None)):
        resp = getattr(client.http, method)(path, headers=_auth(token),
                                            body=json.dumps(body).encode() if body else b"")
        if resp.status_code >= 300:
            raise RuntimeError(f"{path}: {resp.status_code} {resp.body[:200]!r}")
    rows: list[list[Any]] = []

    def measure(label: str, fn: Callable[[], Any]) -> None:
        with ctx.counter.measure() as counts:
            outcome = fn()
        if isinstance(outcome, dict) and outcome.get("accepted") is False:
            raise RuntimeError(f"{label}: {outcome}")
        rows.append([label, sum(counts.values()), describe(counts)])

    def mqtt(suffix: str, body: dict[str, Any]) -> Callable[[], Any]:
        event = {"topic": device_topic(tenant, device_id, suffix),
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
    job = json.loads(client.http.post("/customer/jobs", headers=_auth(token), body=json.dumps({
        "document_type": "update_firmware", "document_params": {"version": "2.1.0"},
        "target_group_id": GROUP}).encode()).body)
    measure("MQTT job execution update (IN_PROGRESS)", mqtt(f"jobs/{job['job_id']}/update", {"status": "IN_PROGRESS"}))
    measure("MQTT job execution update (SUCCEEDED, last of the job)",
            mqtt(f"jobs/{job['job_id']}/update", {"status": "SUCCEEDED"}))
    second_job = json.loads(client.http.post("/customer/jobs", headers=_auth(token), body=json.dumps({
        "document_type": "reboot", "document_params": {}, "target_group_id": GROUP}).encode()).body)
    execution = f"/device/v1/jobs/{second_job['job_id']}/execution"

    def put(body: dict[str, Any]) -> Callable[[], Any]:
        headers = {"X-Provision-Token": http_token, "Content-Type": "application/json"}
        return lambda: json.loads(client.http.put(execution, headers=headers, body=json.dumps(body).encode()).body)

    measure("HTTPS job execution update (IN_PROGRESS)", put({"status": "IN_PROGRESS"}))
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
                        "job updates: the AWS IoT jobs topics are served on this stage, so each update also reads "
                        "the device's pending list (Query + BatchGetItem) to publish notify / notify-next; "
                        "a final update reads the counter shards (it may finish the job), and the totals after "
                        "its write unless that write completed the job",
                        f"measured at {datetime.now(timezone.utc):%H:%M:%S} UTC on a shared machine"])
