"""Device import: one import of 10,000 rows (QUICK=1: 2,000) against single `POST /customer/devices`, in the same run.

Everything runs in the bench process (the in-process app), so botocore's hooks count every
DynamoDB request. Each row joins a group, as a fleet's first import usually does; the
baseline registers devices one POST each and adds each to the group with one PUT.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from bench.bench_jobs import _auth
from bench.ddb_counter import BATCHED_WRITES, Counts, describe
from bench.harness import BenchContext, Table, issue_size, pick
from chalicelib.container import container
from chalicelib.imports.services import ImportServices

ROWS = issue_size(10_000, 2_000)  # issue 27: a 10,000-row import
SINGLES = pick(500, 200)
GROUP = "imported"
# The issue's bound: requests per row beyond the batched writes that carry the items an import makes.
EXTRA_PER_ROW_BOUND = 0.3
# The second import: one row in this many asks for an X.509 certificate (`certificate` column).
CERTIFICATE_EVERY = 4


def run(ctx: BenchContext) -> list[Table]:
    _tenant, token = ctx.new_tenant()
    _post(ctx, token, "/customer/groups", {"group_id": GROUP, "name": "Imported"}, 201)
    rows: list[list[Any]] = [_import(ctx, token, "imp", 0), _import(ctx, token, "crt", CERTIFICATE_EVERY)]

    with ctx.counter.measure() as counts:
        started = time.perf_counter()
        for i in range(SINGLES):
            device_id = f"one-{i:05d}"
            _post(ctx, token, "/customer/devices", {"device_id": device_id, "name": f"Node {i}"}, 201)
            added = ctx.inprocess.http.put(f"/customer/groups/{GROUP}/members/{device_id}", headers=_auth(token))
            if added.status_code != 201:
                raise RuntimeError(f"membership failed: {added.status_code} {added.body[:300]!r}")
        singles_s = time.perf_counter() - started
    requests = sum(counts.values())
    rows.append([f"{SINGLES} single POSTs + group PUTs (baseline, sequential)", singles_s, singles_s,
                 SINGLES / singles_s, requests, requests / SINGLES, counts.items_written / SINGLES,
                 f"{_beyond_item_writes(counts) / SINGLES:.3f}", describe(counts)])
    policy = container().settings.device_imports
    return [Table("Registering devices: one import vs one POST per device (in-process, each joins a group)",
                  ["what", "answer s", "s until all made", "devices/s", "DynamoDB requests", "requests/device",
                   "items written/device", "requests/device beyond item writes", "by operation"], rows,
                  ["beyond item writes: every request but the TransactWriteItems and BatchWriteItem that carry the "
                   "items made (so each GetItem, Query, BatchGetItem, UpdateItem and PutItem counts), per row; "
                   f"the issue asks at most {EXTRA_PER_ROW_BOUND:g}",
                   f"import: chunks of {policy.chunk} rows; per chunk a GetItem of the rows, BatchGetItems of the "
                   "groups, sites and existing devices, one UpdateItem holding the new tokens, TransactWriteItems "
                   "of up to 100 items (device, token, membership; one count update per group), the credential "
                   "epoch, one transaction recording the results",
                   f"the POST works for at most {policy.budget_s:g} s, then answers `running`; the per-minute "
                   "schedule is fired here at once to finish it",
                   "certificates: each is one more item of its device's transaction; a chunk holds fewer rows "
                   "(a certificate and key held in the chunk count about 3 KB toward its 200 KB)",
                   "baseline: per device a TransactWriteItems (device + token) and the epoch UpdateItem, then "
                   "the membership transaction"])]


def _import(ctx: BenchContext, token: str, prefix: str, every: int) -> list[Any]:
    """One import of ROWS rows into the group; with `every`, each every-th row asks for a certificate."""
    header = "device_id,name,groups" + (",certificate" if every else "")
    body = header + "\n" + "".join(
        f"{prefix}-{i:05d},Node {i},{GROUP}" + ((",yes" if i % every == 0 else ",no") if every else "") + "\n"
        for i in range(ROWS))
    with ctx.counter.measure() as counts:
        started = time.perf_counter()
        resp = ctx.inprocess.http.post("/customer/device-imports", body=body.encode(),
                                       headers={**_auth(token), "Content-Type": "text/csv"})
        answered = time.perf_counter() - started
        if resp.status_code != 202:
            raise RuntimeError(f"import failed: {resp.status_code} {resp.body[:300]!r}")
        record = json.loads(resp.body)
        resumed = 0
        while record["status"] != "completed" and resumed < 20:
            # Out of its budget: the per-minute schedule finishes (fired at once here, past the lease).
            later = datetime.now(timezone.utc) + timedelta(minutes=5)
            container().of(ImportServices).device_import_service.run_due(
                later, container().settings.device_imports.sweep_budget_s)
            record = json.loads(ctx.inprocess.http.get(f"/customer/device-imports/{record['import_id']}?limit=1",
                                                       headers=_auth(token)).body)
            resumed += 1
        total = time.perf_counter() - started
    if record["created"] != ROWS:
        raise RuntimeError(f"import counts {record}")
    requests = sum(counts.values())
    extra = _beyond_item_writes(counts) / ROWS
    verdict = "within" if extra <= EXTRA_PER_ROW_BOUND else "OVER"
    what = f"1 import of {ROWS} rows" + (f", every {every}th with a certificate" if every else "")
    return [what, answered, total, ROWS / total, requests, requests / ROWS, counts.items_written / ROWS,
            f"{extra:.3f} ({verdict} {EXTRA_PER_ROW_BOUND:g})", describe(counts)]


def _beyond_item_writes(counts: Counts) -> int:
    return sum(n for op, n in counts.items() if op not in BATCHED_WRITES)


def _post(ctx: BenchContext, token: str, path: str, body: dict[str, Any], status: int) -> dict[str, Any]:
    resp = ctx.inprocess.http.post(path, headers=_auth(token), body=json.dumps(body).encode())
    if resp.status_code != status:
        raise RuntimeError(f"{path}: {resp.status_code} {resp.body[:300]!r}")
    return dict(json.loads(resp.body))
