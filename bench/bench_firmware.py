"""The cost of per-device firmware URLs: a 1,000-device rollout with `{"firmware_id": ...}` beside the same
rollout without firmware, in the same run.

Both rollouts target a seeded group of the same size in a tenant of their own. Measured, in
process (so botocore's hooks count every request): the POST that creates the job and notifies
every device (each `jobs/notify` carries that device's own URL), then every device pulling its
pending list once (GET /device/v1/jobs/pending's service call, which signs a fresh URL), and the
resolver alone. S3 requests are counted on the firmware bucket's clients: presigning is a local
HMAC, so delivery makes none.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from bench.bench_jobs import GROUP, _auth, _seed_fleet
from bench.ddb_counter import describe
from bench.harness import BenchContext, Table, pick
from chalicelib.container import container

SIZE = pick(1_000, 1_000)
IMAGE = b"bench firmware image " * 4096


def run(ctx: BenchContext) -> list[Table]:
    s3 = S3Counter()
    firmware_tenant, firmware_token = ctx.new_tenant()
    firmware_id = _ready_firmware(ctx, firmware_token)
    plain_tenant, plain_token = ctx.new_tenant()
    create_rows, pull_rows = [], []
    for label, tenant, token, params in (
            ("without firmware", plain_tenant, plain_token, {"version": "2.1.0"}),
            ("with firmware_id (per-device URL)", firmware_tenant, firmware_token, {"firmware_id": firmware_id})):
        devices = _seed_fleet(tenant, SIZE)
        body = json.dumps({"document_type": "update_firmware", "document_params": params,
                           "target_group_id": GROUP}).encode()
        with ctx.counter.measure() as counts, s3.measure() as s3_counts:
            started = time.perf_counter()
            resp = ctx.inprocess.http.post("/customer/jobs", headers=_auth(token), body=body)
            create_s = time.perf_counter() - started
        if resp.status_code != 201:
            raise RuntimeError(f"job creation failed: {resp.status_code} {resp.body[:300]!r}")
        create_rows.append([label, SIZE, create_s * 1000, create_s * 1000 / SIZE, sum(counts.values()) / SIZE,
                            sum(s3_counts.values()), describe(counts)])
        service = container().execution_service
        with ctx.counter.measure() as counts, s3.measure() as s3_counts:
            started = time.perf_counter()
            for device_id in devices:
                (pending,) = service.pending(tenant, device_id)
            pull_s = time.perf_counter() - started
        if "firmware_id" in params and "url" not in pending.document["params"]:
            raise RuntimeError("the pending document carries no URL")
        pull_rows.append([label, SIZE, pull_s * 1000 / SIZE, sum(counts.values()) / SIZE,
                          sum(s3_counts.values()), describe(counts, per=SIZE)])
    return [
        Table(f"Create a rollout to {SIZE:,} devices and notify each (POST /customer/jobs, in-process)",
              ["document", "devices", "wall ms", "ms/device", "DynamoDB requests/device", "S3 requests",
               "DynamoDB by operation"], create_rows,
              ["with firmware: one BatchGetItem of the artifact per 1,000-device notify chunk, then one "
               "SigV4 presign per device (CPU only) and one message per device instead of a shared one",
               "the firmware row's create also holds the artifact (one conditional UpdateItem)"]),
        Table(f"Every device pulls its pending list once ({SIZE:,} devices, sequential, service call)",
              ["document", "devices", "ms/device", "DynamoDB requests/device", "S3 requests",
               "by operation per device"], pull_rows,
              ["with firmware: + one BatchGetItem of the artifact and one presign per pull (a fresh URL each time)"]),
        _resolver_alone(firmware_tenant, firmware_id),
    ]


def _resolver_alone(tenant: str, firmware_id: str) -> Table:
    resolver = container().document_resolver
    devices = [f"dev-{i:05d}" for i in range(SIZE)]
    document = {"type": "update_firmware", "params": {"firmware_id": firmware_id}}
    rows = []
    for label, doc in (("no reference (returned as is)", {"type": "reboot", "params": {}}),
                       ("firmware_id", document)):
        started = time.perf_counter()
        resolved = resolver.resolve(tenant, doc, devices)
        elapsed = time.perf_counter() - started
        urls = len({d["params"].get("url") for d in resolved})
        rows.append([label, SIZE, elapsed * 1000, elapsed * 1_000_000 / SIZE, urls])
    return Table("The resolver alone: one document for 1,000 devices", ["document", "devices", "wall ms",
                                                                       "µs/device", "distinct URLs"], rows)


def _ready_firmware(ctx: BenchContext, token: str) -> str:
    body = json.dumps({"version": "2.1.0", "device_model": "bench",
                       "sha256": hashlib.sha256(IMAGE).hexdigest()}).encode()
    ticket = json.loads(ctx.inprocess.http.post("/customer/firmware", headers=_auth(token), body=body).body)
    put = requests.put(ticket["upload_url"], data=IMAGE, headers=ticket["upload_headers"], timeout=30)
    if put.status_code != 200:
        raise RuntimeError(f"upload refused: {put.status_code} {put.text[:200]}")
    firmware_id = ticket["firmware"]["firmware_id"]
    done = json.loads(ctx.inprocess.http.post(f"/customer/firmware/{firmware_id}/complete",
                                              headers=_auth(token)).body)
    if done.get("status") != "ready":
        raise RuntimeError(f"firmware not ready: {done}")
    return str(firmware_id)


class S3Counter:
    """Counts the requests the firmware bucket's boto3 clients send (presigning sends none)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        objects = container().firmware_objects
        for endpoint in {objects._endpoint, objects._public}:
            objects._client(endpoint).meta.events.register("before-call.s3", self._on_call)

    def _on_call(self, model: Any, **kwargs: Any) -> None:
        self._counts[model.name] += 1

    @contextmanager
    def measure(self) -> Iterator[Counter[str]]:
        before = Counter(self._counts)
        result: Counter[str] = Counter()
        try:
            yield result
        finally:
            result.update(self._counts - before)
