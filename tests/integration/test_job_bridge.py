"""Jobs over real MQTT: device -> Mosquitto -> bridge -> device-message Lambda -> the same domain code."""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from mqtt_bridge.bridge import Bridge
from tests.conftest import Stack
from tests.integration.bridge_support import in_process_bridge
from tests.integration.jobs_support import create_job, fleet, simulated, wait_final
from tests.support import Api


@pytest.fixture(scope="module")
def bridge(stack: Stack) -> Iterator[Bridge]:
    with in_process_bridge(stack, "jobs") as running:
        yield running


def _execution(api: Api, job_id: str, timeout: float = 10.0, **expected: Any) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        execution = dict(api.get(f"/customer/jobs/{job_id}").body["executions"][0])
        if all(execution[k] == v for k, v in expected.items()) or time.monotonic() > deadline:
            return execution
        time.sleep(0.05)


def test_device_runs_a_job_over_mqtt_through_the_bridge(stack: Stack, api: Api, bridge: Bridge) -> None:
    # Given a device listening on its notify topic
    device_id, token = api.create_device("mq-job")
    device = stack.device_peer(api.tenant_id, device_id, token)
    root = f"tenant/{api.tenant_id}/device/{device_id}"
    try:
        device.subscribe(f"{root}/jobs/notify")
        job = create_job(api, target_device_id=device_id)
        # When it is notified, then claims and finishes the job on its update topic
        _, notify, _ = device.expect()
        assert notify["jobs"][0]["job_id"] == job["job_id"]
        device.publish(f"{root}/jobs/{job['job_id']}/update", {"status": "IN_PROGRESS", "expected_version": 1})
        assert _execution(api, job["job_id"], status="IN_PROGRESS")["version_number"] == 2
        device.publish(f"{root}/jobs/{job['job_id']}/update",
                       {"status": "SUCCEEDED", "status_details": {"via": "bridge"}, "expected_version": 2})
        # Then the job completes as over HTTP
        assert _execution(api, job["job_id"], status="SUCCEEDED")["status_details"] == {"via": "bridge"}
        assert api.get(f"/customer/jobs/{job['job_id']}").body["status"] == "COMPLETED"
    finally:
        device.close()


def test_a_refused_update_is_dropped_and_does_not_block_the_next(stack: Stack, api: Api, bridge: Bridge) -> None:
    device_id, token = api.create_device("mq-job-409")
    device = stack.device_peer(api.tenant_id, device_id, token)
    job = create_job(api, target_device_id=device_id)
    topic = f"tenant/{api.tenant_id}/device/{device_id}/jobs/{job['job_id']}/update"
    try:
        # Given an illegal move (QUEUED -> QUEUED) and a stale version, both refused for good
        device.publish(topic, {"status": "QUEUED"})
        device.publish(topic, {"status": "IN_PROGRESS", "expected_version": 9})
        # When a valid update follows, it gets through
        device.publish(topic, {"status": "FAILED", "status_details": {"why": "disk full"}})
        execution = _execution(api, job["job_id"], status="FAILED")
    finally:
        device.close()
    # Then only the valid one changed the execution
    assert execution["status"] == "FAILED" and execution["version_number"] == 2


def test_simulated_fleet_runs_a_group_job_end_to_end(stack: Stack, api: Api, bridge: Bridge, api_url: str) -> None:
    # Given three simulated devices that claim over HTTPS and report results on MQTT
    tokens = fleet(api, "e2e", 3, group_id="e2e")
    sims = [simulated(api, stack, api_url, d, t) for d, t in tokens.items()]
    try:
        # When the operator creates a job for their group
        job = create_job(api, document_type="update_config", document_params={"log_level": "debug"},
                         target_group_id="e2e")
        assert job["execution_count"] == 3
        # Then every device runs it and the job completes
        final = wait_final(api, job["job_id"])
    finally:
        for sim in sims:
            sim.stop()
    assert final["status"] == "COMPLETED" and final["counts"]["SUCCEEDED"] == 3
    assert {e["status_details"]["result"] for e in final["executions"]} == {"update_config done"}
