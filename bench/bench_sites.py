"""Sites: DynamoDB requests per lifecycle route, and the fan-out of a schedule change to large sites."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pynamodb.models import BatchWrite

from bench.ddb_counter import describe
from bench.harness import BenchContext, Table, pick
from chalicelib.container import container
from chalicelib.devices.index import site_index_key, site_index_sort, status_index_key
from chalicelib.devices.models import DeviceModel
from chalicelib.devices.schemas import DeviceStatus
from chalicelib.sites.device_store import SiteDeviceRepository
from chalicelib.sites.schemas import CreateSite, UpdateSite
from chalicelib.sites.store import SiteModel

# (devices on the site, parallel UpdateItem workers)
FAN_OUT_CASES = pick([(1000, 1), (1000, 8), (5000, 1), (5000, 8)], [(500, 1), (500, 8), (2000, 8)])


def run(ctx: BenchContext) -> list[Table]:
    return [_request_counts(ctx), _fan_out(ctx)]


def _request_counts(ctx: BenchContext) -> Table:
    """Each lifecycle route once, in-process, where every DynamoDB request is counted."""
    _tenant, token = ctx.new_tenant()
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    rows: list[list[Any]] = []

    def call(method: str, path: str, body: Any = None) -> Any:
        resp = getattr(ctx.inprocess.http, method)(path, headers=auth,
                                                   body=json.dumps(body).encode() if body is not None else b"")
        if resp.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {resp.status_code} {resp.body[:200]!r}")
        return json.loads(resp.body)

    def measure(label: str, fn: Callable[[], Any]) -> None:
        with ctx.counter.measure() as counts:
            fn()
        rows.append([label, sum(counts.values()), describe(counts)])

    site = {"name": "S", "wake_schedule_cron": "0 6 * * *", "timezone": "Europe/Berlin"}
    call("post", "/customer/devices", {"device_id": "d1"})
    measure("POST /customer/sites", lambda: call("post", "/customer/sites", {**site, "site_id": "a"}))
    call("post", "/customer/sites", {**site, "site_id": "b"})
    measure("PUT /customer/devices/{id}/site (map + welcome)",
            lambda: call("put", "/customer/devices/d1/site", {"site_id": "a"}))
    measure("PUT .../site again (same site, no-op)", lambda: call("put", "/customer/devices/d1/site", {"site_id": "a"}))
    measure("PUT .../site (remap + welcome)", lambda: call("put", "/customer/devices/d1/site", {"site_id": "b"}))
    measure("DELETE /customer/devices/{id}/site", lambda: call("delete", "/customer/devices/d1/site"))
    call("put", "/customer/devices/d1/site", {"site_id": "a"})
    measure("POST /customer/devices/{id}/disable", lambda: call("post", "/customer/devices/d1/disable"))
    measure("POST .../enable (mapped: re-welcome)", lambda: call("post", "/customer/devices/d1/enable"))
    measure("PATCH /customer/sites/{id} (rename)", lambda: call("patch", "/customer/sites/a", {"name": "A"}))
    measure("PATCH .../sites/{id} (cron, 1 device)",
            lambda: call("patch", "/customer/sites/a", {"wake_schedule_cron": "0 7 * * *"}))
    measure("GET /customer/devices?site_id=a&status=active",
            lambda: call("get", "/customer/devices?site_id=a&status=active"))
    sender = type(container().welcome_sender).__name__
    return Table("DynamoDB requests per site / lifecycle route", ["route", "requests", "by operation"], rows,
                 [f"welcome sender: {sender} (its command writes are included in the counts)",
                  "TransactWriteItems is one request; a mapping moves the device and both sites' counts in it"])


def _fan_out(ctx: BenchContext) -> Table:
    """A cron change on sites of N mapped devices: wall time and DynamoDB requests."""
    rows: list[list[Any]] = []
    for size, workers in FAN_OUT_CASES:
        tenant, _ = ctx.new_tenant()
        service = _site_service(workers)
        service.create(tenant, CreateSite(site_id="big", name="Big", wake_schedule_cron="0 6 * * *",
                                          timezone="Europe/Berlin"))
        seed_s = _seed_mapped_devices(tenant, "big", size)
        with ctx.counter.measure() as counts:
            started = time.perf_counter()
            change = service.update(tenant, "big", UpdateSite(wake_schedule_cron="30 5 * * *"), "bench")
            elapsed = time.perf_counter() - started
        rows.append([size, workers, round(elapsed, 2), round(size / elapsed), change.devices_updated,
                     change.devices_notified, sum(counts.values()), describe(counts), round(seed_s, 1)])
    return Table("Schedule change fan-out (PATCH cron on a site of N devices, in-process, moto server)",
                 ["devices", "workers", "seconds", "devices/s", "next_wake updated", "commands queued",
                  "requests", "by operation", "seed s"], rows,
                 ["devices seeded mapped with BatchWriteItem (not through the API) to keep the bench short",
                  "sent in chunks of 500 devices (one index page, then a cursor write on the site), "
                  "so an interrupted fan-out resumes after its last chunk",
                  "next_wake_at: one conditional UpdateItem per device (DynamoDB's batch write cannot "
                  "update), run in parallel; commands go through WelcomeSender.send_many (batched)",
                  "GetItem counts include the local stack's credential-sync poll (one a second)",
                  "moto's server does about 200-250 single-item requests/s here; real DynamoDB is far faster"])


def _site_service(workers: int) -> Any:
    from chalicelib.sites.service import SiteService

    # The budget is lifted so one call times the whole fan-out (a PATCH stops after
    # FLEET_SITE_FANOUT_BUDGET_S and leaves the rest to the per-minute schedule).
    return SiteService(container().site_repository, SiteDeviceRepository(workers), container().welcome_sender,
                       budget_s=3600)


def _seed_mapped_devices(tenant: str, site_id: str, count: int) -> float:
    """Write `count` devices already mapped to the site, and the site's count, in batches."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    active = DeviceStatus.ACTIVE.value
    with BatchWrite(DeviceModel) as batch:
        for i in range(count):
            device_id = f"fan-{i:05d}"
            batch.save(DeviceModel(
                tenant, device_id, status=active, created_at=now, token_hash=f"bench-{tenant}-{device_id}",
                site_id=site_id, site_key=site_index_key(tenant, site_id),
                site_sort=site_index_sort(active, device_id), status_key=status_index_key(tenant, active),
                mapping_id=f"seed-{i}",
            ))
    SiteModel(tenant, site_id).update(actions=[SiteModel.device_count.set(count)])
    return time.perf_counter() - started
