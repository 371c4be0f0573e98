"""Seed 004 end to end: single device, group targeting, claim, complete, expiry, cancel."""
from __future__ import annotations

from datetime import datetime, timedelta

from chalice.test import Client

from tests.integration.jobs_support import create_job, disable, fleet, run_sweep, update
from tests.support import Api


def test_single_device_job_runs_from_queued_to_completed(api: Api) -> None:
    # Given a device (seed steps 2-3)
    device_id, token = api.create_device("cam-1")
    job = create_job(api, document_type="reboot", document_params={"delay_s": 5},
                     target_device_id=device_id, expires_in_hours=1)
    assert job["status"] == "IN_PROGRESS" and job["execution_count"] == 1
    assert job["counts"]["QUEUED"] == 1 and job["target_type"] == "device"
    described = api.get(f"/customer/jobs/{job['job_id']}").body
    assert [(e["device_id"], e["status"]) for e in described["executions"]] == [(device_id, "QUEUED")]

    # When the device polls (step 4)
    pending = api.device_call("GET", "/device/v1/jobs/pending", token)
    assert pending.status == 200
    [entry] = pending.body["jobs"]
    assert entry["job_id"] == job["job_id"]
    assert entry["document"] == {"type": "reboot", "params": {"delay_s": 5}}
    assert (entry["status"], entry["execution_number"], entry["version_number"]) == ("QUEUED", 1, 1)

    # And claims it (step 5)
    claimed = update(api, token, job["job_id"], "IN_PROGRESS")
    assert claimed.status == 200 and claimed.body["status"] == "IN_PROGRESS"
    assert claimed.body["version_number"] == 2 and claimed.body["started_at"]
    assert api.get(f"/customer/jobs/{job['job_id']}").body["executions"][0]["status"] == "IN_PROGRESS"

    # And completes it (step 6)
    done = update(api, token, job["job_id"], "SUCCEEDED", status_details={"message": "reboot scheduled"})
    assert done.status == 200 and done.body["status"] == "SUCCEEDED"

    # Then the job is COMPLETED and nothing is pending any more
    final = api.get(f"/customer/jobs/{job['job_id']}").body
    assert final["status"] == "COMPLETED" and final["completed_at"]
    assert final["counts"] == {"QUEUED": 0, "IN_PROGRESS": 0, "SUCCEEDED": 1, "FAILED": 0, "REJECTED": 0,
                               "TIMED_OUT": 0}
    assert final["executions"][0]["status_details"] == {"message": "reboot scheduled"}
    assert api.device_call("GET", "/device/v1/jobs/pending", token).body["jobs"] == []


def test_group_job_has_one_execution_per_enabled_member(api: Api) -> None:
    # Given a group of four devices, one of them disabled (step 7)
    devices = fleet(api, "g", 4, group_id="floor-1")
    disable(api, "g-003")
    # When a job targets the group
    job = create_job(api, document_type="update_config", document_params={"log_level": "debug"},
                     target_group_id="floor-1")
    # Then the snapshot holds the enabled members only
    assert job["execution_count"] == 3 and job["target_id"] == "floor-1"
    listed = api.get(f"/customer/jobs/{job['job_id']}?limit=2")
    assert len(listed.body["executions"]) == 2 and listed.body["next_token"]
    rest = api.get(f"/customer/jobs/{job['job_id']}?limit=2&next_token={listed.body['next_token']}").body
    ids = [e["device_id"] for e in listed.body["executions"] + rest["executions"]]
    assert ids == ["g-000", "g-001", "g-002"]
    # And a device added afterwards is not part of the job (snapshot)
    late, late_token = api.create_device("late")
    api.put(f"/customer/groups/floor-1/members/{late}")
    assert api.device_call("GET", "/device/v1/jobs/pending", late_token).body["jobs"] == []
    assert len(api.device_call("GET", "/device/v1/jobs/pending", devices["g-000"]).body["jobs"]) == 1


def test_target_all_snapshots_the_enabled_fleet(api: Api) -> None:
    fleet(api, "a", 3)
    disable(api, "a-001")
    job = create_job(api, target_all=True)
    assert job["execution_count"] == 2 and job["target_type"] == "all"


def test_expired_job_times_out_open_executions_and_completes(api: Api, chalice_client: Client) -> None:
    # Given a job with a claimed and a queued execution (step 8)
    devices = fleet(api, "x", 2, group_id="exp")
    job = create_job(api, document_type="test_expiry", target_group_id="exp", expires_in_hours=24)
    assert update(api, devices["x-000"], job["job_id"], "IN_PROGRESS").status == 200
    # When the schedule fires before expiry, nothing changes
    run_sweep(chalice_client, datetime.fromisoformat(job["expires_at"]) - timedelta(minutes=1))
    assert api.get(f"/customer/jobs/{job['job_id']}").body["status"] == "IN_PROGRESS"
    # And when it fires after expiry
    report = run_sweep(chalice_client, datetime.fromisoformat(job["expires_at"]) + timedelta(minutes=1))
    assert report["expired"] >= 1
    # Then the job is COMPLETED and every open execution TIMED_OUT
    final = api.get(f"/customer/jobs/{job['job_id']}").body
    assert (final["status"], {e["status"] for e in final["executions"]}) == ("COMPLETED", {"TIMED_OUT"})
    assert final["counts"]["TIMED_OUT"] == 2 and final["counts"]["IN_PROGRESS"] == 0
    assert final["executions"][0]["status_details"]["reason"] == "job expired"
    # And a late device update is refused with the current execution
    late = update(api, devices["x-000"], job["job_id"], "SUCCEEDED")
    assert late.status == 409 and late.body["execution"]["status"] == "TIMED_OUT"


def test_cancel_rejects_queued_executions_and_lets_in_progress_finish(api: Api) -> None:
    # Given a job with one claimed and two queued executions (step 9)
    devices = fleet(api, "c", 3, group_id="cg")
    job = create_job(api, target_group_id="cg")
    assert update(api, devices["c-000"], job["job_id"], "IN_PROGRESS").status == 200
    # When the operator cancels it
    canceled = api.delete(f"/customer/jobs/{job['job_id']}")
    assert canceled.status == 200
    assert canceled.body["job_id"] == job["job_id"] and canceled.body["status"] == "CANCELED"
    assert canceled.body["counts"]["REJECTED"] == 2 and canceled.body["sweep_pending"] is False
    # Then queued executions are REJECTED with a reason and gone from the pending list
    executions = {e["device_id"]: e for e in api.get(f"/customer/jobs/{job['job_id']}").body["executions"]}
    assert executions["c-001"]["status"] == "REJECTED"
    assert executions["c-001"]["status_details"] == {"reason": "job canceled"}
    assert api.device_call("GET", "/device/v1/jobs/pending", devices["c-001"]).body["jobs"] == []
    assert update(api, devices["c-001"], job["job_id"], "IN_PROGRESS").status == 409
    # And the claimed one may still finish, the job staying CANCELED
    assert update(api, devices["c-000"], job["job_id"], "SUCCEEDED").status == 200
    final = api.get(f"/customer/jobs/{job['job_id']}").body
    assert final["status"] == "CANCELED" and final["counts"]["SUCCEEDED"] == 1
    # And canceling again is a conflict
    again = api.delete(f"/customer/jobs/{job['job_id']}")
    assert again.status == 409 and again.body["status"] == "CANCELED"


def test_canceling_a_completed_job_is_a_conflict(api: Api) -> None:
    device_id, token = api.create_device("done")
    job = create_job(api, target_device_id=device_id)
    assert update(api, token, job["job_id"], "SUCCEEDED").status == 200
    resp = api.delete(f"/customer/jobs/{job['job_id']}")
    assert resp.status == 409 and resp.body["status"] == "COMPLETED"
