"""Helpers for the jobs tests: fleets, the scheduled sweep, the device-message Lambda."""
from __future__ import annotations

import base64
import json
import time
from datetime import datetime
from typing import Any

from chalice.test import Client

from chalicelib.core.topics import device_topic
from infra.local.scheduler import scheduled_event, scheduled_functions
from infra.local.simulator import DeviceIdentity, SimulatedDevice, build_device
from tests.conftest import Stack
from tests.support import Api


def fleet(api: Api, prefix: str, n: int, group_id: str | None = None) -> dict[str, str]:
    """Create n devices (device_id -> token), optionally all members of a new group."""
    devices = dict(api.create_device(f"{prefix}-{i:03d}") for i in range(n))
    if group_id:
        assert api.post("/customer/groups", {"group_id": group_id, "name": group_id}).status == 201
        for device_id in devices:
            assert api.put(f"/customer/groups/{group_id}/members/{device_id}").status == 201
    return devices


def create_job(api: Api, **body: Any) -> dict[str, Any]:
    """POST a job that must be created."""
    resp = api.post("/customer/jobs", {"document_type": "reboot", "document_params": {}, **body})
    assert resp.status == 201, resp.body
    return dict(resp.body)


def update(api: Api, token: str, job_id: str, status: str, **extra: Any) -> Any:
    """A device's PUT of its execution."""
    return api.device_call("PUT", f"/device/v1/jobs/{job_id}/execution", token, {"status": status, **extra})


def run_sweep(client: Client, now: datetime) -> dict[str, Any]:
    """Fire the per-minute jobs function as EventBridge would at `now`."""
    from app import app

    result: dict[str, Any] = scheduled_functions(app)["jobs_sweep"](scheduled_event(now), None)
    assert "error" not in result, result
    return result


def device_message(client: Client, tenant_id: str, device_id: str, suffix: str, payload: Any) -> dict[str, Any]:
    """Invoke the device-message Lambda the way the bridge does."""
    raw = json.dumps(payload).encode()
    event = {"topic": device_topic(tenant_id, device_id, suffix), "payload_b64": base64.b64encode(raw).decode()}
    return dict(client.lambda_.invoke("device_message", event).payload)


def disable(api: Api, device_id: str) -> None:
    """Disable a device through the operator route."""
    response = api.post(f"/customer/devices/{device_id}/disable")
    assert response.status == 200, response.body


def simulated(api: Api, stack: Stack, api_url: str, device_id: str, token: str | None = None,
              **options: Any) -> SimulatedDevice:
    """A connected simulated device with every behaviour, working 50 ms per job."""
    if token is None:
        device_id, token = api.create_device(device_id)
    stack.sync.sync_once()
    identity = DeviceIdentity(api.tenant_id, device_id, token, {"job_work_s": 0.05, **options})
    device = build_device(identity, stack.broker.host, stack.broker.port, api_url, heartbeat_s=3600).start()
    assert device.connected.wait(5)
    return device


def wait_final(api: Api, job_id: str, timeout: float = 20.0) -> dict[str, Any]:
    """The job once it left IN_PROGRESS (simulated devices work asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/customer/jobs/{job_id}").body
        if job["status"] != "IN_PROGRESS":
            return dict(job)
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still IN_PROGRESS after {timeout}s")
