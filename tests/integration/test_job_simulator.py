"""The local stack's simulated devices run jobs: notified, claim, work, report."""
from __future__ import annotations

from tests.conftest import Stack
from tests.integration.jobs_support import create_job, simulated, wait_final
from tests.support import Api


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
