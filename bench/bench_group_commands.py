"""Group commands: one POST to a 1,000-device group against 1,000 single-device POSTs, in the same run.

Everything runs in the bench process (the in-process app), so botocore's hooks count every
DynamoDB request. Devices and memberships are seeded with batch writes straight into the
tables: the registry bench covers those routes.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from bench.bench_jobs import GROUP, _auth, _seed_fleet
from bench.ddb_counter import describe
from bench.harness import BenchContext, Table
from chalicelib.container import container

SIZE = 1_000
BODY = {"command_type": "capture_image", "command_params": {"count": 1}}


def run(ctx: BenchContext) -> list[Table]:
    tenant, token = ctx.new_tenant()
    devices = _seed_fleet(tenant, SIZE)
    rows: list[list[Any]] = []

    with ctx.counter.measure() as counts:
        started = time.perf_counter()
        resp = ctx.inprocess.http.post(f"/customer/groups/{GROUP}/commands", headers=_auth(token),
                                       body=json.dumps(BODY).encode())
        answered = time.perf_counter() - started
        batch = json.loads(resp.body)
        if resp.status_code != 202:
            raise RuntimeError(f"group command failed: {resp.status_code} {resp.body[:300]!r}")
        resumed = 0
        while batch["status"] != "sent" and resumed < 10:
            # Out of its budget: the per-minute schedule finishes (fired at once here, past the lease).
            later = datetime.now(timezone.utc) + timedelta(minutes=5)
            container().command_batch_service.run_due(later, container().settings.command_batches.sweep_budget_s)
            batch = _get(ctx, token, batch["batch_id"])
            resumed += 1
        total = time.perf_counter() - started
    rows.append([f"1 group POST ({SIZE} members)", answered, total, resumed, sum(counts.values()),
                 counts["BatchWriteItem"], describe(counts)])

    with ctx.counter.measure() as counts:
        started = time.perf_counter()
        view = _get(ctx, token, batch["batch_id"])
        view_s = time.perf_counter() - started
    view_row = ["GET the batch (counts + first page)", view_s, view_s, 0, sum(counts.values()), 0, describe(counts)]
    if view["counts"]["queued"] != SIZE:
        raise RuntimeError(f"batch counts {view['counts']}")

    with ctx.counter.measure() as counts:
        started = time.perf_counter()
        for device_id in devices:
            single = ctx.inprocess.http.post(f"/customer/devices/{device_id}/commands", headers=_auth(token),
                                             body=json.dumps(BODY).encode())
            if single.status_code != 201:
                raise RuntimeError(f"single command failed: {single.status_code} {single.body[:300]!r}")
        singles_s = time.perf_counter() - started
    rows.append([f"{SIZE} single POSTs (baseline, sequential)", singles_s, singles_s, 0, sum(counts.values()),
                 counts["BatchWriteItem"], describe(counts)])
    rows.append(view_row)
    policy = container().settings.command_batches
    return [Table(f"A command to every device of a {SIZE}-device group vs one POST per device (in-process)",
                  ["what", "answer s", "s until all sent", "schedule runs", "DynamoDB requests", "BatchWriteItem",
                   "by operation"], rows,
                  [f"group: chunks of {policy.chunk} members; per chunk one membership Query, device BatchGetItem "
                   "(status), BatchWriteItem of the commands (25 a request), one QoS 1 publish round, one "
                   "UpdateItem per command (published_at, as for a single command) and two UpdateItems of the batch "
                   "(the lease owner check before the commands' write, the step after it)",
                   f"the POST works for at most {policy.budget_s:g} s, then answers `sending`; 'schedule runs' "
                   "counts the per-minute resumes fired here at once to finish it",
                   "single: per POST a TransactWriteItems (device check + command) and the published_at UpdateItem",
                   "the batch view counts every command of the batch on the by_batch index (one Query page here)"])]


def _get(ctx: BenchContext, token: str, batch_id: str) -> dict[str, Any]:
    resp = ctx.inprocess.http.get(f"/customer/command-batches/{batch_id}?limit=50", headers=_auth(token))
    return dict(json.loads(resp.body))


