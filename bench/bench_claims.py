"""Provisioning by claim: boards enrolling themselves (create + provision) against the operator's two POSTs a device.

Everything runs in the bench process, so botocore's hooks count every DynamoDB request: the
device-message function's handler answers each board's `$fleet/claims/...` requests as the
bridge would hand them over (its answers go to the stack's broker). The baseline registers each
device with `POST /customer/devices` and issues its certificate with one more POST.
"""
from __future__ import annotations

import json
import time
from typing import Any

from bench.bench_imports import _post
from bench.ddb_counter import describe
from bench.harness import BenchContext, Table, issue_size, pick
from chalicelib.container import container
from chalicelib.provisioning.services import ProvisioningServices

BOARDS = issue_size(1_000, 200)  # issue 27: 1,000 devices enrolled by claim
SINGLES = pick(300, 100)


def run(ctx: BenchContext) -> list[Table]:
    _tenant, token = ctx.new_tenant()
    _post(ctx, token, "/customer/provisioning-templates", {
        "template_name": "bench", "parameters": {"Serial": {"pattern": "[0-9]{6}"}}, "device_id": "board-{Serial}",
        "attributes": {"serial": "{Serial}"}}, 201)
    claim = _post(ctx, token, "/customer/provisioning-templates/bench/claim-certificates", {}, 201)
    fleet = container().of(ProvisioningServices).fleet_provisioning
    root = f"$fleet/claims/claim-{claim['certificate_id']}"
    published: list[dict[str, Any]] = []
    publisher = container().publisher
    original = publisher.publish

    def keep(message: Any) -> bool:
        published.append(message.payload)
        return original(message)

    rows: list[list[Any]] = []
    publisher.publish = keep  # type: ignore[method-assign]
    try:
        with ctx.counter.measure() as counts:
            started = time.perf_counter()
            for i in range(BOARDS):
                fleet.handle(f"{root}/{i}/board-{i}/certificates/create/json", b"{}")
                made = published[-1]
                answer = fleet.handle(f"{root}/{i}/board-{i}/provisioning-templates/bench/provision/json",
                                      json.dumps({"certificateOwnershipToken": made["certificateOwnershipToken"],
                                                  "parameters": {"Serial": f"{i:06d}"}}).encode())
                if not answer["accepted"]:
                    raise RuntimeError(f"enrolment refused: {published[-1]}")
            total = time.perf_counter() - started
    finally:
        publisher.publish = original  # type: ignore[method-assign]
    requests = sum(counts.values())
    rows.append([f"{BOARDS} boards by claim (create + provision)", total, BOARDS / total, requests,
                 requests / BOARDS, describe(counts)])

    with ctx.counter.measure() as counts:
        started = time.perf_counter()
        for i in range(SINGLES):
            _post(ctx, token, "/customer/devices", {"device_id": f"one-{i:05d}"}, 201)
            _post(ctx, token, f"/customer/devices/one-{i:05d}/certificates", {}, 201)
        singles_s = time.perf_counter() - started
    requests = sum(counts.values())
    rows.append([f"{SINGLES} POST device + POST certificate (baseline)", singles_s, SINGLES / singles_s, requests,
                 requests / SINGLES, describe(counts)])
    return [Table("Enrolling devices with certificates: by claim vs the operator's POSTs (in-process, sequential)",
                  ["what", "s", "devices/s", "DynamoDB requests", "requests/device", "by operation"], rows,
                  ["by claim, per board: create = the claim and its template read, the claim's hourly count (a "
                   "conditional update), the pending certificate put, the credential epoch; provision = the claim and "
                   "template read, the pending certificate (a Query: the token's hash is its key), the token taken "
                   "(conditional update), the template's groups (when it has any), one transaction for the device "
                   "(conditioned on it not existing: no read first), the fleet's continuous jobs (a Query), one "
                   "transaction moving the certificate, the epoch, the template's count",
                   "both sides make a P-256 key pair and sign a certificate per device",
                   "the boards' requests are handed to the device-message function's handler in this process, as "
                   "the bridge hands them over (the broker and bridge hops are not timed); its answers are "
                   "published to the stack's broker"])]

