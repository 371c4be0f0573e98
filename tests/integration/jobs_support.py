"""Helpers for the jobs tests: fleets, the scheduled sweep, the device-message Lambda."""
from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from chalice.test import Client

from chalicelib import wiring
from chalicelib.schemas.topics import device_topic
from infra.local.scheduler import scheduled_event, scheduled_functions
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
    """Disable a device through the registry service (there is no route for it yet)."""
    wiring.device_service().set_enabled(api.tenant_id, device_id, False)
