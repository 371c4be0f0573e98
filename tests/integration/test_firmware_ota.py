"""Simulated devices update their firmware end to end: their own URL, the checksum, the steps, the reboot,
the reported version counted in the fleet view; a rollout whose image fails verification aborts."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.container import container
from chalicelib.core.clock import utcnow
from mqtt_bridge.bridge import Bridge
from tests.conftest import S3, Stack
from tests.integration.bridge_support import in_process_bridge
from tests.integration.firmware_support import ready_firmware
from tests.integration.jobs_support import create_job, simulated, wait_final
from tests.support import Api


@pytest.fixture(scope="module")
def bridge(stack: Stack, s3: S3) -> Iterator[Bridge]:
    with in_process_bridge(stack, "ota") as running:
        yield running


def until(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def versions(api: Api, group_id: str | None = None) -> dict[str, int]:
    query = f"?group_id={group_id}" if group_id else ""
    resp = api.get(f"/customer/firmware-versions{query}")
    assert resp.status == 200, resp.body
    return dict(resp.body["versions"])


def test_a_rollout_updates_every_device_and_the_version_counts(api: Api, stack: Stack, api_url: str,
                                                                bridge: Bridge) -> None:
    devices = [simulated(api, stack, api_url, f"ota-{i}", job_update_via="http", ota_step_s=0.01)
               for i in range(3)]
    try:
        group = api.post("/customer/groups", {"name": "fleet"}).body["group_id"]
        for d in devices:
            api.put(f"/customer/groups/{group}/members/{d.device_id}")
        # Every device reports what it runs on connect (through the broker and the bridge)
        until(lambda: versions(api) == {"1.0.0": 3})
        firmware = ready_firmware(api, b"firmware 2.0.0 " * 500, "2.0.0")
        # When the image is rolled out to the group with an abort threshold
        job = create_job(api, target_group_id=group, document_type="update_firmware",
                         document_params={"firmware_id": firmware["firmware_id"]},
                         abort=[{"failure_type": "FAILED", "min_executed": 1, "threshold_percentage": 50}])
        done = wait_final(api, job["job_id"], timeout=120)
        # Then every device downloaded its image, verified it, rebooted and reports the new version
        assert done["status"] == "COMPLETED" and done["counts"]["SUCCEEDED"] == 3, done
        assert {e["status_details"]["firmware_version"] for e in done["executions"]} == {"2.0.0"}
        assert until(lambda: versions(api) == {"2.0.0": 3})
        # The group's counts moved with the reports made while its devices were members (a report moves the
        # fleet's count, then each group's, in writes of their own: the group may follow a moment later)
        assert until(lambda: versions(api, group) == {"2.0.0": 3})
    finally:
        for d in devices:
            d.stop()


def test_an_image_failing_verification_aborts_the_rollout_at_its_threshold(api: Api, stack: Stack, api_url: str,
                                                                           bridge: Bridge) -> None:
    devices = [simulated(api, stack, api_url, f"bad-{i}", job_update_via="http", fail_verify=True)
               for i in range(4)]
    try:
        group = api.post("/customer/groups", {"name": "canary"}).body["group_id"]
        for d in devices:
            api.put(f"/customer/groups/{group}/members/{d.device_id}")
        firmware = ready_firmware(api, b"broken build" * 100, "2.1.0")
        job = create_job(api, target_group_id=group, document_type="update_firmware",
                         document_params={"firmware_id": firmware["firmware_id"]},
                         rollout={"max_per_minute": 1},
                         abort=[{"failure_type": "FAILED", "min_executed": 1, "threshold_percentage": 10}])
        done = wait_final(api, job["job_id"], timeout=120)
        # The first device fails at `verify`; the threshold cancels the rest before they are released
        assert done["status"] == "CANCELED" and done["aborted"] is True, done
        failed = [e for e in done["executions"] if e["status"] == "FAILED"]
        assert len(failed) == 1 and failed[0]["status_details"]["step"] == "verify"
        assert failed[0]["status_details"]["reason"] == "checksum mismatch"
        assert versions(api).get("2.1.0") is None
    finally:
        for d in devices:
            d.stop()


def test_a_stalled_update_is_timed_out_by_its_step_timeout(api: Api) -> None:
    firmware = ready_firmware(api, b"image" * 100, "3.0.0")
    device, token = api.create_device("stalls")
    job = create_job(api, target_device_id=device, document_type="update_firmware",
                     document_params={"firmware_id": firmware["firmware_id"]})
    path = f"/device/v1/jobs/{job['job_id']}/execution"
    # The device starts downloading, promising the step in 5 minutes, then goes silent
    assert api.device_call("PUT", path, token, {"status": "IN_PROGRESS", "step_timeout_minutes": 5,
                                                 "status_details": {"step": "download"}}).status == 200
    # A device that rebooted and reports IN_PROGRESS again resumes the same execution
    resumed = api.device_call("PUT", path, token, {"status": "IN_PROGRESS", "step_timeout_minutes": 5,
                                                    "status_details": {"step": "download", "resumed": "true"}})
    assert resumed.status == 200 and resumed.body["execution_number"] == 1 and resumed.body["version_number"] == 3
    # When the timeout schedule runs after the step's deadline, the update ends TIMED_OUT
    container().job_timeouts.run_due(utcnow() + timedelta(minutes=6), 30)
    execution = api.device_call("GET", path, token).body
    assert execution["status"] == "TIMED_OUT" and execution["status_details"]["step"] == "download"
