"""Jobs at fleet scale: fan-out to 1,000 and 10,000-device groups, driving every execution to
SUCCEEDED with a pool of simulated device updates, and the chunked expiry sweep.

Everything runs in the bench process (the in-process app and the device-message router the
bridge calls), so botocore's hooks count every DynamoDB request. Devices and memberships are
seeded with batch writes straight into the tables: the registry bench covers those routes.
"""
from __future__ import annotations

import json
import math
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

from bench.ddb_counter import describe
from bench.harness import BenchContext, Table, pick
from chalicelib.container import container
from chalicelib.core.storage.batch import BatchWriter, model_sender
from chalicelib.core.topics import device_topic
from chalicelib.devices.index import status_index_key
from chalicelib.devices.models import DeviceModel
from chalicelib.groups.store import GroupModel, MembershipModel, device_key, member_key
from chalicelib.jobs.schemas import UpdateExecution

SIZES = pick((1_000, 10_000), (200, 1_000))
WORKERS = 16
GROUP = "fleet"


def run(ctx: BenchContext) -> list[Table]:
    create_rows: list[list[Any]] = []
    drive_rows: list[list[Any]] = []
    sweep_rows: list[list[Any]] = []
    for n in SIZES:
        tenant, token = ctx.new_tenant()
        devices, raw_s = _seed_fleet_timed(tenant, n)
        job, create_s, counts = _create(ctx, token, n)
        create_rows.append([n, create_s, raw_s, create_s / raw_s, sum(counts.values()), counts["BatchWriteItem"],
                            describe(counts)])

        with ctx.counter.measure() as counts:
            started = time.perf_counter()
            _drive(tenant, job["job_id"], devices)
            drive_s = time.perf_counter() - started
        final = _get(ctx, token, job["job_id"])
        updates = 2 * n
        drive_rows.append([n, final["status"], final["counts"]["SUCCEEDED"], create_s + drive_s,
                           updates / drive_s, sum(counts.values()) / updates, describe(counts, per=updates)])

        expiring, _, _ = _create(ctx, token, n)
        later = datetime.fromisoformat(expiring["expires_at"]) + timedelta(minutes=1)
        with ctx.counter.measure() as counts:
            started = time.perf_counter()
            report = container().job_sweeper.run_due(later, budget_s=600)
            sweep_s = time.perf_counter() - started
        swept = _get(ctx, token, expiring["job_id"])
        sweep_rows.append([n, swept["status"], swept["counts"]["TIMED_OUT"], report.chunks, sweep_s,
                           sum(counts.values()), describe(counts)])

    chunk = container().settings.jobs.sweep_chunk
    return [
        Table("Create a job for a whole group (POST /customer/jobs, in-process)",
              ["devices", "wall s", "raw batch write s", "vs raw", "DynamoDB requests", "BatchWriteItem",
               "by operation"], create_rows,
              ["raw batch write s = the bench's own BatchWriteItem of the same number of items (the fleet's "
               "device items, 4 requests in flight) just before, in the same run: the engine's floor for the fan-out",
               "target: at most ceil(N/25) + 10 requests ("
               + ", ".join(f"{math.ceil(n / 25) + 10} for {n:,}" for n in SIZES) + ")",
               "includes the group snapshot (member Query; the enabled check from the keys-only by-status index, "
               "or a device BatchGetItem per 100 members for a small group), "
               "the fan-out and one jobs/notify publish (QoS 1) per device",
               f"fan-out writes with {container().settings.jobs.fanout_workers} BatchWriteItem requests in flight; "
               "the service logs the split (snapshot / fan-out / notify)",
               "a few GetItem a second are the local stack's credential-sync poll, in this process too"]),
        Table(f"Every execution IN_PROGRESS then SUCCEEDED ({WORKERS} concurrent simulated devices, "
              "through the device-message router the bridge calls)",
              ["devices", "job", "SUCCEEDED", "s until all SUCCEEDED", "updates/s", "requests/update",
               "by operation per update"], drive_rows,
              ["'s until all SUCCEEDED' counts from the POST that created the job",
               "per update: device lookup (router); a start: TransactWriteItems (execution + a counter shard) "
               "on the job read once per process and the execution as queued; a finish: TransactGetItems "
               "(execution + job), the shards' open counts, TransactWriteItems, and the totals after it "
               "unless it completed the job; the presence touch is at most once a minute"]),
        _service_path(ctx),
        Table(f"Expiry sweep of a whole-group job (scheduled function, chunks of {chunk})",
              ["devices", "job", "TIMED_OUT", "chunks", "wall s", "DynamoDB requests", "by operation"],
              sweep_rows,
              ["per chunk: one consistent Query, BatchWriteItem of the chunk, one conditional UpdateItem "
               "of the job (counters + cursor), one GetItem to continue; the 4 due-index shards cost a Query each",
               f"run here with a 600 s budget; the schedule's default {container().settings.jobs.sweep_budget_s:g} s "
               "budget resumes a longer sweep on the next minute"]),
    ]


def _seed_fleet(tenant: str, n: int) -> list[str]:
    """The fleet's devices, all in the group."""
    return _seed_fleet_timed(tenant, n)[0]


def _seed_fleet_timed(tenant: str, n: int) -> tuple[list[str], float]:
    """The fleet's devices in the group, and the time the n device items' batch write took (the raw floor)."""
    now = datetime.now(timezone.utc)
    ids = [f"dev-{i:05d}" for i in range(n)]
    items = [DeviceModel(tenant, d, attributes={}, status="active", created_at=now, token_hash=f"bench-{d}",
                         status_key=status_index_key(tenant, "active")).serialize() for d in ids]
    started = time.perf_counter()
    BatchWriter(model_sender(DeviceModel), workers=4).write(puts=iter(items))
    raw_s = time.perf_counter() - started
    BatchWriter(model_sender(MembershipModel), workers=4).write(puts=(
        MembershipModel(member_key(tenant, GROUP), d, device_key=device_key(tenant, d), group_id=GROUP,
                        added_at=now).serialize() for d in ids))
    GroupModel(tenant, GROUP, name="Bench fleet", member_count=n, created_at=now).save()
    return ids, raw_s


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def _create(ctx: BenchContext, token: str, n: int) -> tuple[dict[str, Any], float, Counter[str]]:
    body = json.dumps({"document_type": "update_firmware", "document_params": {"version": "2.1.0"},
                       "target_group_id": GROUP}).encode()
    with ctx.counter.measure() as counts:
        started = time.perf_counter()
        resp = ctx.inprocess.http.post("/customer/jobs", headers=_auth(token), body=body)
        elapsed = time.perf_counter() - started
    job = json.loads(resp.body)
    if resp.status_code != 201 or job["execution_count"] != n:
        raise RuntimeError(f"job creation failed: {resp.status_code} {resp.body[:300]!r}")
    return job, elapsed, counts


def _get(ctx: BenchContext, token: str, job_id: str) -> dict[str, Any]:
    return dict(json.loads(ctx.inprocess.http.get(f"/customer/jobs/{job_id}?limit=1", headers=_auth(token)).body))


def _drive(tenant: str, job_id: str, devices: list[str]) -> None:
    """Each simulated device claims its execution, then reports success, over the MQTT path."""
    router = container().device_message_router
    topic_suffix = f"jobs/{job_id}/update"

    def device_run(device_id: str) -> None:
        topic = device_topic(tenant, device_id, topic_suffix)
        for status in ("IN_PROGRESS", "SUCCEEDED"):
            outcome = router.handle(topic, json.dumps({"status": status, "status_details": {"by": "bench"}}))
            if not outcome.accepted:
                raise RuntimeError(f"{device_id} {status}: {outcome.reason}")

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(device_run, devices))


def _service_path(ctx: BenchContext) -> Table:
    """The domain cost alone: ExecutionService.update, which the HTTP route and the router share."""
    tenant, token = ctx.new_tenant()
    n = 100
    devices = _seed_fleet(tenant, n)
    job, _, _ = _create(ctx, token, n)
    service = container().execution_service
    rows = []
    for status in ("IN_PROGRESS", "SUCCEEDED"):
        with ctx.counter.measure() as counts:
            for d in devices:
                service.update(tenant, d, job["job_id"], UpdateExecution(status=status))  # type: ignore[arg-type]
        rows.append([f"QUEUED -> {status}" if status == "IN_PROGRESS" else "IN_PROGRESS -> SUCCEEDED",
                     sum(counts.values()) / n, describe(counts, per=n)])
    final = _get(ctx, token, job["job_id"])
    return Table(f"DynamoDB requests per execution update, domain code only ({n} devices, sequential)",
                 ["transition", "requests/update", "by operation"], rows,
                 [f"job after the last update: {final['status']}, flipped by the last finisher's own transaction; "
                  "under concurrency a finisher whose view of the open counter is stale retries once"])
