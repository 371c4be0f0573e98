"""In-progress and step timeouts swept by the schedule; continuous jobs that follow their target."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from chalice.test import Client

from tests.integration.jobs_support import create_job, fleet, run_sweep, update
from tests.support import Api


def job(api: Api, job_id: str) -> dict[str, Any]:
    return dict(api.get(f"/customer/jobs/{job_id}?limit=200").body)


def execution(api: Api, token: str, job_id: str) -> dict[str, Any]:
    return dict(api.device_call("GET", f"/device/v1/jobs/{job_id}/execution", token).body)


def test_an_in_progress_execution_not_finished_in_time_times_out(api: Api, chalice_client: Client) -> None:
    # Given a job with a 5-minute in-progress timeout, its only device working on it
    device_id, token = api.create_device("slow-1")
    job_id = create_job(api, target_device_id=device_id, in_progress_timeout_minutes=5)["job_id"]
    started = datetime.now(UTC)
    assert update(api, token, job_id, "IN_PROGRESS").status == 200
    # When the schedule runs before the deadline, nothing changes
    run_sweep(chalice_client, started + timedelta(minutes=4))
    assert execution(api, token, job_id)["status"] == "IN_PROGRESS"
    # When it runs after the deadline
    report = run_sweep(chalice_client, started + timedelta(minutes=6))
    # Then the execution is TIMED_OUT and the job, with nothing left open, COMPLETED
    assert report["timed_out"] >= 1
    assert execution(api, token, job_id)["status"] == "TIMED_OUT"
    body = job(api, job_id)
    assert body["status"] == "COMPLETED" and body["counts"]["TIMED_OUT"] == 1
    # And the device's late report is refused
    assert update(api, token, job_id, "SUCCEEDED").status == 409


def test_a_step_timeout_times_out_a_step_not_renewed(api: Api, chalice_client: Client) -> None:
    # Given two devices of one job, each starting with a 2-minute step timeout
    tokens = fleet(api, "step", 2, group_id="step")
    job_id = create_job(api, target_group_id="step")["job_id"]
    started = datetime.now(UTC)
    for token in tokens.values():
        assert update(api, token, job_id, "IN_PROGRESS", step_timeout_minutes=2).status == 200
    # When one device starts a new 10-minute step before the first ends
    assert update(api, tokens["step-001"], job_id, "IN_PROGRESS", step_timeout_minutes=10).status == 200
    run_sweep(chalice_client, started + timedelta(minutes=3))
    # Then only the device that did not renew its step timed out
    assert execution(api, tokens["step-000"], job_id)["status"] == "TIMED_OUT"
    assert execution(api, tokens["step-001"], job_id)["status"] == "IN_PROGRESS"
    assert update(api, tokens["step-001"], job_id, "SUCCEEDED").status == 200
    assert job(api, job_id)["status"] == "COMPLETED"


def test_a_step_timeout_out_of_range_is_refused_naming_the_field(api: Api) -> None:
    device_id, token = api.create_device("step-bad")
    job_id = create_job(api, target_device_id=device_id)["job_id"]
    resp = update(api, token, job_id, "IN_PROGRESS", step_timeout_minutes=0)
    assert resp.status == 400 and resp.body["field"] == "step_timeout_minutes"
    assert execution(api, token, job_id)["status"] == "QUEUED"


def test_a_device_added_to_the_group_mid_job_gets_its_execution(api: Api) -> None:
    # Given a continuous job on a group of two, both finished
    tokens = fleet(api, "cont", 2, group_id="cont")
    job_id = create_job(api, target_group_id="cont", target_selection="CONTINUOUS")["job_id"]
    for token in tokens.values():
        assert update(api, token, job_id, "SUCCEEDED").status == 200
    # Then the continuous job stays IN_PROGRESS
    assert job(api, job_id)["status"] == "IN_PROGRESS"
    # When a device joins the group
    new_id, new_token = api.create_device("cont-new")
    assert api.put(f"/customer/groups/cont/members/{new_id}").status == 201
    # Then it has a queued execution of the job, and can run it
    assert job_id in [j["job_id"] for j in api.device_call("GET", "/device/v1/jobs/pending", new_token).body["jobs"]]
    assert update(api, new_token, job_id, "SUCCEEDED").status == 200
    body = job(api, job_id)
    assert body["execution_count"] == 3 and body["counts"]["SUCCEEDED"] == 3 and body["status"] == "IN_PROGRESS"
    # When the job is canceled, a later member gets nothing
    assert api.delete(f"/customer/jobs/{job_id}").status == 200
    late_id, late_token = api.create_device("cont-late")
    assert api.put(f"/customer/groups/cont/members/{late_id}").status == 201
    assert api.device_call("GET", "/device/v1/jobs/pending", late_token).body["jobs"] == []


def test_a_device_registered_into_the_fleet_joins_a_continuous_fleet_job(api: Api) -> None:
    api.create_device("fleet-1")
    job_id = create_job(api, target_all=True, target_selection="CONTINUOUS")["job_id"]
    _, new_token = api.create_device("fleet-2")
    assert [j["job_id"] for j in api.device_call("GET", "/device/v1/jobs/pending", new_token).body["jobs"]] \
        == [job_id]
    assert job(api, job_id)["execution_count"] == 2


def test_concurrent_finishers_complete_a_sharded_job_exactly_once(api: Api, api_url: str) -> None:
    # Given 40 devices of one job (counters spread over shards)
    tokens = fleet(api, "burst", 40, group_id="burst")
    job_id = create_job(api, target_group_id="burst")["job_id"]

    def finish(token: str) -> int:
        # Over real HTTP: the in-process test client shares one `current_request` between threads,
        # so concurrent calls through it can run with another device's token.
        return requests.put(f"{api_url}/device/v1/jobs/{job_id}/execution", json={"status": "SUCCEEDED"},
                            headers={"X-Provision-Token": token}, timeout=30).status_code

    # When all finish at the same time
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(finish, tokens.values()))
    # Then every update was applied, counted once, and the job completed
    assert codes == [200] * 40
    body = job(api, job_id)
    assert body["status"] == "COMPLETED" and body["counts"]["SUCCEEDED"] == 40 and body["counts"]["QUEUED"] == 0
