"""The local stack's simulated devices run jobs: notified, claim, work, report."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.api_server import make_server
from infra.local.processes import free_port
from infra.local.simulator import DeviceIdentity, SimulatedDevice, build_device
from tests.conftest import Stack
from tests.integration.jobs_support import create_job
from tests.support import Api


@pytest.fixture(scope="module")
def api_url(stack: Stack) -> Iterator[str]:
    """The app over real HTTP (chalice local), as simulated devices reach it."""
    port = free_port()
    server = make_server("127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


def simulated(api: Api, stack: Stack, api_url: str, device_id: str, token: str | None = None,
              **options: Any) -> SimulatedDevice:
    if token is None:
        device_id, token = api.create_device(device_id)
    stack.sync.sync_once()
    identity = DeviceIdentity(api.tenant_id, device_id, token, {"job_work_s": 0.05, **options})
    device = build_device(identity, stack.broker.host, stack.broker.port, api_url, heartbeat_s=3600).start()
    assert device.connected.wait(5)
    return device


def wait_final(api: Api, job_id: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/customer/jobs/{job_id}").body
        if job["status"] != "IN_PROGRESS":
            return dict(job)
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still IN_PROGRESS after {timeout}s")


def test_simulated_device_runs_notified_jobs_and_fails_on_request(api: Api, stack: Stack, api_url: str) -> None:
    # Given a running simulated device that reports over HTTPS
    device = simulated(api, stack, api_url, "sim-1", job_update_via="http")
    try:
        # When two jobs are created for it, one asking to fail
        ok = create_job(api, document_type="reboot", target_device_id="sim-1")
        bad = create_job(api, document_type="update_firmware", document_params={"fail": True},
                         target_device_id="sim-1")
        # Then both complete, with the outcome and details the device reported
        ok_exec = wait_final(api, ok["job_id"])["executions"][0]
        bad_exec = wait_final(api, bad["job_id"])["executions"][0]
        assert (ok_exec["status"], ok_exec["status_details"]) == ("SUCCEEDED", {"result": "reboot done"})
        assert (bad_exec["status"], bad_exec["status_details"]) == ("FAILED", {"result": "simulated failure"})
        assert ok_exec["started_at"] and ok_exec["version_number"] == 3
    finally:
        device.stop()


def test_simulated_device_catches_up_on_jobs_queued_while_offline(api: Api, stack: Stack, api_url: str) -> None:
    # Given a job queued (and its notification missed) before the device connects
    _, token = api.create_device("sim-late")
    job = create_job(api, target_device_id="sim-late")
    device = simulated(api, stack, api_url, "sim-late", token, job_update_via="http")
    try:
        # Then it runs the job after connecting, without a notification
        assert wait_final(api, job["job_id"])["executions"][0]["status"] == "SUCCEEDED"
    finally:
        device.stop()
