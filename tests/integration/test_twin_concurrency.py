"""Concurrent twin writes against the DynamoDB emulator: optimistic concurrency loses nothing."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.container import container
from chalicelib.twin.schemas import PatchDesired, ReportState
from tests.conftest import Stack
from tests.support import Api

WRITERS = 20


def _all_at_once(calls: list[Any]) -> list[Any]:
    """Run the calls on their own threads, released together so they really collide."""
    gate = threading.Barrier(len(calls))

    def run(call: Any) -> Any:
        gate.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_twenty_concurrent_patches_yield_twenty_consecutive_versions_and_keep_every_key(
        stack: Stack, api: Api) -> None:
    device_id, _ = api.create_device("twin-race")
    service = container().twin_service
    # When 20 writers PATCH one key each at the same moment (the Lambdas share nothing but the table)
    results = _all_at_once([
        (lambda i=i: service.patch_desired(api.tenant_id, device_id, PatchDesired(desired={f"k{i}": i})))
        for i in range(WRITERS)
    ])
    # Then every PATCH got its own version, 1..20 without gaps
    assert sorted(r["desired_version"] for r in results) == list(range(1, WRITERS + 1))
    # And no key was lost
    twin = api.get(f"/customer/devices/{device_id}/twin").body
    assert twin["desired"] == {f"k{i}": i for i in range(WRITERS)}
    assert twin["desired_version"] == WRITERS
    assert set(twin["metadata"]["desired"]) == {f"k{i}" for i in range(WRITERS)}


def test_patches_and_reports_interleaved_keep_both_documents(stack: Stack, api: Api) -> None:
    device_id, _ = api.create_device("twin-race-mixed")
    service = container().twin_service
    tenant = api.tenant_id
    calls: list[Any] = []
    for i in range(6):
        calls.append(lambda i=i: service.patch_desired(tenant, device_id, PatchDesired(desired={f"d{i}": i})))
        calls.append(lambda i=i: service.report(tenant, device_id, ReportState(reported={f"r{i}": i})))
    _all_at_once(calls)
    twin = api.get(f"/customer/devices/{device_id}/twin").body
    assert twin["desired"] == {f"d{i}": i for i in range(6)} and twin["desired_version"] == 6
    assert twin["reported"] == {f"r{i}": i for i in range(6)} and twin["reported_version"] == 0
