"""Seed 004 on `make run`: the demo fleet runs jobs through the real API, broker and bridge."""
from __future__ import annotations

import hashlib
import time
from typing import Any

import requests

from tests.integration.test_local_stack import running_stack
from tests.stack_support import RunningStack, wait_for

__all__ = ["running_stack"]  # a fixture, used by name


def _wait_final(api: str, auth: dict[str, str], job_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = requests.get(f"{api}/customer/jobs/{job_id}", headers=auth, timeout=5).json()
        if job["status"] != "IN_PROGRESS" or time.monotonic() > deadline:
            return dict(job)
        time.sleep(0.3)


def test_demo_fleet_runs_group_jobs_and_reports_failures(running_stack: RunningStack) -> None:
    info = running_stack.info
    api, auth = info["api_url"], {"Authorization": f"Bearer {info['operator_token']}"}
    # Given the demo group (sim-2 reports over HTTPS, the others over MQTT through the bridge, and the
    # board enrolled by claim, which the template put in the group, on AWS IoT Jobs' topics)
    body = {"document_type": "update_config", "document_params": {"log_level": "debug"},
            "target_group_id": info["group_id"]}
    created = requests.post(f"{api}/customer/jobs", json=body, headers=auth, timeout=30)
    members = len(info["devices"]) + 1
    assert created.status_code == 201 and created.json()["execution_count"] == members
    # Then every simulated device claims and completes it
    done = _wait_final(api, auth, created.json()["job_id"])
    assert done["status"] == "COMPLETED" and done["counts"]["SUCCEEDED"] == members
    assert info["claim_board"]["device_id"] in {e["device_id"] for e in done["executions"]}
    # And a job asking to fail ends FAILED on the device, COMPLETED for the job
    failing = requests.post(f"{api}/customer/jobs", headers=auth, timeout=30, json={
        "document_type": "reboot", "document_params": {"fail": True}, "target_device_id": "sim-1"}).json()
    final = _wait_final(api, auth, failing["job_id"])
    assert final["status"] == "COMPLETED" and final["executions"][0]["status"] == "FAILED"


def test_a_firmware_rollout_to_the_demo_fleet_updates_every_member_the_claim_board_too(
        running_stack: RunningStack) -> None:
    info = running_stack.info
    api, auth = info["api_url"], {"Authorization": f"Bearer {info['operator_token']}"}
    # Given an image uploaded through its presigned URL and completed
    image = b"demo firmware 5.0.0 " * 2000
    ticket = requests.post(f"{api}/customer/firmware", headers=auth, timeout=30, json={
        "version": "5.0.0", "device_model": "sim", "sha256": hashlib.sha256(image).hexdigest()}).json()
    assert requests.put(ticket["upload_url"], data=image, headers=ticket["upload_headers"], timeout=30).ok
    firmware_id = ticket["firmware"]["firmware_id"]
    ready = requests.post(f"{api}/customer/firmware/{firmware_id}/complete", headers=auth, timeout=30).json()
    assert ready["status"] == "ready", ready
    # When it is rolled out to the demo group
    created = requests.post(f"{api}/customer/jobs", headers=auth, timeout=30, json={
        "document_type": "update_firmware", "document_params": {"firmware_id": firmware_id},
        "target_group_id": info["group_id"]}).json()
    # Then every member (the board enrolled by claim too) downloads, verifies, reboots and reports 5.0.0
    done = _wait_final(api, auth, created["job_id"], timeout=90)
    by_device = {e["device_id"]: e for e in done["executions"]}
    assert info["claim_board"]["device_id"] in by_device and len(by_device) == len(info["devices"]) + 1
    assert {e["status"] for e in by_device.values()} == {"SUCCEEDED"}, done
    assert {e["status_details"]["firmware_version"] for e in by_device.values()} == {"5.0.0"}
    versions = f"{api}/customer/firmware-versions?group_id={info['group_id']}"
    assert wait_for(lambda: requests.get(versions, headers=auth, timeout=15).json()["versions"].get("5.0.0")
                    == len(by_device), 30)


def test_demo_device_sees_and_cancel_rejects_pending_work(running_stack: RunningStack) -> None:
    info = running_stack.info
    api, auth = info["api_url"], {"Authorization": f"Bearer {info['operator_token']}"}
    device = info["devices"][0]
    job = requests.post(f"{api}/customer/jobs", headers=auth, timeout=30, json={
        "document_type": "reboot", "target_device_id": device["device_id"], "expires_in_hours": 1}).json()
    canceled = requests.delete(f"{api}/customer/jobs/{job['job_id']}", headers=auth, timeout=30)
    assert canceled.status_code == 200 and canceled.json()["status"] == "CANCELED"
    again = requests.delete(f"{api}/customer/jobs/{job['job_id']}", headers=auth, timeout=30)
    assert again.status_code == 409
