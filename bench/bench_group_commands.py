"""Group commands: one POST to a 1,000-device group beside the engine's floor (a raw batch write of the
same 1,000 command items) and single-device POSTs, in the same run.

Everything runs in the bench process (the in-process app, whose background kick runs here
too), so botocore's hooks count every DynamoDB request. Devices and memberships are seeded
with batch writes straight into the tables: the registry bench covers those routes.
"""
from __future__ import annotations

import json
import math
import time
from datetime import datetime, timezone
from typing import Any

from bench.bench_jobs import GROUP, _auth, _seed_fleet
from bench.ddb_counter import describe
from bench.harness import BenchContext, Table, pick
from chalicelib.commands.models import CommandModel, device_key
from chalicelib.container import container
from chalicelib.core.storage.batch import BatchWriter, model_sender

SIZE = 1_000
SINGLES = pick(1_000, 100)
BODY = {"command_type": "capture_image", "command_params": {"count": 1}}
# The wait for the background run is bounded; each poll is one GetItem, subtracted from the counts.
POLL_S, POLL_MAX = 0.02, 30_000


def run(ctx: BenchContext) -> list[Table]:
    tenant, token = ctx.new_tenant()
    devices = _seed_fleet(tenant, SIZE)
    batches = container().command_batch_service

    with ctx.counter.measure() as counts:
        started = time.perf_counter()
        resp = ctx.inprocess.http.post(f"/customer/groups/{GROUP}/commands", headers=_auth(token),
                                       body=json.dumps(BODY).encode())
        answered = time.perf_counter() - started
        batch = json.loads(resp.body)
        if resp.status_code != 202:
            raise RuntimeError(f"group command failed: {resp.status_code} {resp.body[:300]!r}")
        polls = 0
        while batch["status"] != "sent" and polls < POLL_MAX:
            # The POST handed the rest to the background run it kicked; nothing here fires the schedule.
            time.sleep(POLL_S)
            batch = batches.list_page(tenant, 1, None).items[0].model_dump(mode="json")
            polls += 1
        total = time.perf_counter() - started
    if batch["status"] != "sent":
        raise RuntimeError(f"batch not sent after {total:.1f}s")
    counts["Query"] -= polls  # the bench's own polls
    group_requests = sum(counts.values())
    group_row = [f"1 group POST ({SIZE} members)", answered, total, group_requests, group_requests * 1000 / SIZE,
                 describe(counts)]

    with ctx.counter.measure() as counts:
        started = time.perf_counter()
        view = _get(ctx, token, batch["batch_id"])
        view_s = time.perf_counter() - started
    view_row = ["GET the batch (counts + first page)", view_s, view_s, sum(counts.values()), "", describe(counts)]
    if view["counts"]["queued"] != SIZE or view["published"] != SIZE:
        raise RuntimeError(f"batch counts {view['counts']}, published {view['published']}")

    floor_row, floor_s = _raw_floor(ctx)

    with ctx.counter.measure() as counts:
        started = time.perf_counter()
        for device_id in devices[:SINGLES]:
            single = ctx.inprocess.http.post(f"/customer/devices/{device_id}/commands", headers=_auth(token),
                                             body=json.dumps(BODY).encode())
            if single.status_code != 201:
                raise RuntimeError(f"single command failed: {single.status_code} {single.body[:300]!r}")
        singles_s = time.perf_counter() - started
    singles_row = [f"{SINGLES} single POSTs (sequential)", singles_s, singles_s, sum(counts.values()),
                   sum(counts.values()) * 1000 / SINGLES, describe(counts)]
    policy = container().settings.command_batches
    return [Table(f"A command to every device of a {SIZE}-device group vs the engine's floor (in-process)",
                  ["what", "answer s", "s until all sent", "DynamoDB requests", "per 1,000 members", "by operation"],
                  [group_row, floor_row, singles_row, view_row],
                  [f"ratio: group / floor = {total / floor_s:.1f}x the time of the raw batch write of the same "
                   f"{SIZE} items; targets: all sent <= 6 s, <= 100 requests per 1,000, answer < 1 s",
                   (f"group: the POST stores the batch and answers `sending` before any chunk is sent "
                    f"(first chunk {policy.first_chunk}); " if not policy.first_chunk else
                    f"group: the POST sends a first chunk of {policy.first_chunk} and answers `sending` after "
                    f"{policy.budget_s:g} s at most; ")
                   + f"a background run (a thread here, an asynchronous invoke of the batches function on AWS) "
                   f"sends the walk in chunks of {policy.chunk}",
                   "per chunk: one membership Query, device BatchGetItem (status, 100 a request), BatchWriteItem of "
                   "the commands written with the publish round's time (25 a request), one QoS 1 publish round, "
                   "two UpdateItems of the batch (the lease owner check before the commands' write, the step "
                   "after it); a refused publish alone costs an UpdateItem",
                   "the background run adds the due-index Query per shard, the walk read and its claim; a walk "
                   "handed over cleanly is not re-read (one taken over from a dead runner re-reads its first chunk)",
                   "single: per POST a TransactWriteItems (device check + command) and the published_at UpdateItem",
                   f"the machine is shared and loaded: times vary run to run; floor = {math.ceil(SIZE / 25)} "
                   "BatchWriteItem requests, 4 in flight"])]


def _raw_floor(ctx: BenchContext) -> tuple[list[Any], float]:
    """The same number of command items written with BatchWriteItem and nothing else."""
    tenant, _ = ctx.new_tenant()
    now = datetime.now(timezone.utc)
    items = [CommandModel(device_key(tenant, f"dev-{i:05d}"), f"01floor{i:019d}", tenant_id=tenant,
                          device_id=f"dev-{i:05d}", command_type="capture_image", command_params={"count": 1},
                          status="queued", created_at=now, expires_at=now, publish_attempts=1).serialize()
             for i in range(SIZE)]
    with ctx.counter.measure() as counts:
        started = time.perf_counter()
        BatchWriter(model_sender(CommandModel), workers=4).write(puts=items)
        elapsed = time.perf_counter() - started
    return [f"floor: BatchWriteItem of {SIZE} command items", elapsed, elapsed, sum(counts.values()),
            sum(counts.values()) * 1000 / SIZE, describe(counts)], elapsed


def _get(ctx: BenchContext, token: str, batch_id: str) -> dict[str, Any]:
    resp = ctx.inprocess.http.get(f"/customer/command-batches/{batch_id}?limit=50", headers=_auth(token))
    return dict(json.loads(resp.body))
