"""Seed 004 on `make run`: the demo fleet runs jobs through the real API, broker and bridge."""
from __future__ import annotations

import time
from typing import Any

import requests

from tests.integration.test_local_stack import running_stack
from tests.stack_support import RunningStack

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
    # Given the demo group (sim-2 reports over HTTPS, the others over MQTT through the bridge)
    body = {"document_type": "update_config", "document_params": {"log_level": "debug"},
            "target_group_id": info["group_id"]}
    created = requests.post(f"{api}/customer/jobs", json=body, headers=auth, timeout=30)
    assert created.status_code == 201 and created.json()["execution_count"] == len(info["devices"])
    # Then every simulated device claims and completes it
    done = _wait_final(api, auth, created.json()["job_id"])
    assert done["status"] == "COMPLETED" and done["counts"]["SUCCEEDED"] == len(info["devices"])
    # And a job asking to fail ends FAILED on the device, COMPLETED for the job
    failing = requests.post(f"{api}/customer/jobs", headers=auth, timeout=30, json={
        "document_type": "reboot", "document_params": {"fail": True}, "target_device_id": "sim-1"}).json()
    final = _wait_final(api, auth, failing["job_id"])
    assert final["status"] == "COMPLETED" and final["executions"][0]["status"] == "FAILED"


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
