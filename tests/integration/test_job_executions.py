"""The execution state machine over HTTP and MQTT, completion counting, tenant isolation."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from chalice.test import Client

from chalicelib.container import container
from chalicelib.jobs.rules import DEVICE_TRANSITIONS, FINAL
from chalicelib.jobs.schemas import ExecutionStatus, UpdateExecution
from tests.integration.jobs_support import create_job, device_message, fleet, update
from tests.support import Api

ALL = [s.value for s in ExecutionStatus]


@pytest.mark.parametrize("target", ALL)
def test_queued_execution_moves_only_as_the_table_allows(api: Api, target: str) -> None:
    # Given a queued execution
    device_id, token = api.create_device("d")
    job = create_job(api, target_device_id=device_id)
    # When the device asks for `target`
    resp = update(api, token, job["job_id"], target)
    # Then the transition table decides, and a refusal carries the unchanged execution
    if ExecutionStatus(target) in DEVICE_TRANSITIONS[ExecutionStatus.QUEUED]:
        assert resp.status == 200 and resp.body["status"] == target and resp.body["version_number"] == 2
    else:
        assert resp.status == 409 and resp.body["field"] == "status"
        assert resp.body["execution"]["status"] == "QUEUED" and resp.body["execution"]["version_number"] == 1


@pytest.mark.parametrize("final", sorted(s.value for s in FINAL - {ExecutionStatus.TIMED_OUT}))
def test_a_final_execution_refuses_every_further_change(api: Api, final: str) -> None:
    device_id, token = api.create_device("d")
    job = create_job(api, target_device_id=device_id)
    assert update(api, token, job["job_id"], final).status == 200
    for target in ALL:
        resp = update(api, token, job["job_id"], target)
        assert resp.status == 409, target
        assert resp.body["execution"]["status"] == final and resp.body["execution"]["version_number"] == 2


def test_in_progress_may_repeat_with_new_details_but_not_go_back(api: Api) -> None:
    device_id, token = api.create_device("d")
    job = create_job(api, target_device_id=device_id)
    update(api, token, job["job_id"], "IN_PROGRESS", status_details={"step": "download"})
    again = update(api, token, job["job_id"], "IN_PROGRESS", status_details={"step": "flash"})
    assert again.status == 200 and again.body["version_number"] == 3
    assert again.body["status_details"] == {"step": "flash"}
    back = update(api, token, job["job_id"], "QUEUED")
    assert back.status == 409 and back.body["execution"]["status_details"] == {"step": "flash"}
    # Details are kept when an update does not give any
    assert update(api, token, job["job_id"], "IN_PROGRESS").body["status_details"] == {"step": "flash"}


def test_stale_expected_version_is_a_conflict(api: Api) -> None:
    device_id, token = api.create_device("d")
    job = create_job(api, target_device_id=device_id)
    assert update(api, token, job["job_id"], "IN_PROGRESS", expected_version=1).status == 200
    stale = update(api, token, job["job_id"], "SUCCEEDED", expected_version=1)
    assert stale.status == 409 and stale.body["field"] == "expected_version"
    assert stale.body["execution"]["version_number"] == 2
    assert update(api, token, job["job_id"], "SUCCEEDED", expected_version=2).status == 200


def test_bad_update_bodies_are_400_naming_the_field(api: Api) -> None:
    device_id, token = api.create_device("d")
    job = create_job(api, target_device_id=device_id)
    cases = [
        ({"status": "DONE"}, "status"),
        ({"status": "IN_PROGRESS", "status_details": {"k": 1}}, "status_details.k"),
        ({"status": "IN_PROGRESS", "status_details": {f"k{i}": "v" for i in range(11)}}, "status_details"),
        ({"status": "IN_PROGRESS", "status_details": {"k": "x" * 1025}}, "status_details.k"),
        ({"status": "IN_PROGRESS", "expected_version": 0}, "expected_version"),
        ({"status": "IN_PROGRESS", "extra": True}, "extra"),
    ]
    for body, field in cases:
        resp = api.device_call("PUT", f"/device/v1/jobs/{job['job_id']}/execution", token, body)
        assert resp.status == 400 and resp.body["field"] == field, (body, resp.body)
    assert api.get(f"/customer/jobs/{job['job_id']}").body["executions"][0]["version_number"] == 1


def test_job_completes_once_when_the_last_execution_is_final(api: Api) -> None:
    # Given a job for three devices
    devices = fleet(api, "m", 3, group_id="mg")
    job = create_job(api, target_group_id="mg")
    outcomes = {"m-000": "SUCCEEDED", "m-001": "FAILED", "m-002": "REJECTED"}
    # When they finish one by one, the job stays IN_PROGRESS until the last
    for i, (device_id, status) in enumerate(outcomes.items()):
        assert update(api, devices[device_id], job["job_id"], status).status == 200
        current = api.get(f"/customer/jobs/{job['job_id']}").body
        assert current["status"] == ("COMPLETED" if i == 2 else "IN_PROGRESS")
    # Then the counters add up to the execution count
    counts = api.get(f"/customer/jobs/{job['job_id']}").body["counts"]
    assert counts == {"QUEUED": 0, "IN_PROGRESS": 0, "SUCCEEDED": 1, "FAILED": 1, "REJECTED": 1, "TIMED_OUT": 0}


def test_device_execution_route_describes_the_job_document(api: Api) -> None:
    device_id, token = api.create_device("d")
    job = create_job(api, document_type="update_firmware", document_params={"url": "https://x/fw.bin"},
                     target_device_id=device_id)
    resp = api.device_call("GET", f"/device/v1/jobs/{job['job_id']}/execution", token)
    assert resp.status == 200
    assert resp.body["document"] == {"type": "update_firmware", "params": {"url": "https://x/fw.bin"}}
    assert resp.body["status"] == "QUEUED" and resp.body["device_id"] == device_id


def test_pending_lists_oldest_first_and_hides_final_ones(api: Api) -> None:
    device_id, token = api.create_device("d")
    first = create_job(api, target_device_id=device_id)
    second = create_job(api, target_device_id=device_id)
    third = create_job(api, target_device_id=device_id)
    update(api, token, second["job_id"], "IN_PROGRESS")
    update(api, token, third["job_id"], "FAILED")
    jobs = api.device_call("GET", "/device/v1/jobs/pending", token).body["jobs"]
    assert [(j["job_id"], j["status"]) for j in jobs] == [(first["job_id"], "QUEUED"),
                                                          (second["job_id"], "IN_PROGRESS")]


def test_other_devices_and_tenants_get_404(api: Api, other_api: Api) -> None:
    # Given a job for one device of tenant A
    mine, _ = api.create_device("mine")
    _, neighbour = api.create_device("neighbour")
    job = create_job(api, target_device_id=mine)
    _, stranger = other_api.create_device("mine")
    path = f"/device/v1/jobs/{job['job_id']}/execution"
    # Then a device without an execution, in the same or another tenant, sees nothing
    for token in (neighbour, stranger):
        assert api.device_call("GET", path, token).status == 404
        assert api.device_call("PUT", path, token, {"status": "IN_PROGRESS"}).status == 404
        assert api.device_call("GET", "/device/v1/jobs/pending", token).body["jobs"] == []
    # And another tenant's operator can neither read, list nor cancel it
    assert other_api.get(f"/customer/jobs/{job['job_id']}").status == 404
    assert other_api.delete(f"/customer/jobs/{job['job_id']}").status == 404
    assert other_api.get("/customer/jobs").body["jobs"] == []
    # And cannot target tenant A's device or group
    api.post("/customer/groups", {"group_id": "ga", "name": "A"})
    assert other_api.post("/customer/jobs", {"document_type": "x", "target_group_id": "ga"}).status == 404
    cursor_owner = [create_job(api, target_device_id=mine) for _ in range(2)]
    token = api.get("/customer/jobs?limit=1").body["next_token"]
    assert cursor_owner and other_api.get(f"/customer/jobs?next_token={token}").status == 400
    assert api.get(f"/customer/jobs/{job['job_id']}").body["executions"][0]["status"] == "QUEUED"


def test_mqtt_update_runs_the_same_domain_code(api: Api, chalice_client: Client) -> None:
    # Given a queued execution
    device_id, _ = api.create_device("mq")
    job = create_job(api, target_device_id=device_id)
    suffix = f"jobs/{job['job_id']}/update"
    # When the device claims and finishes it over MQTT (through the device-message Lambda)
    claimed = device_message(chalice_client, api.tenant_id, device_id, suffix, {"status": "IN_PROGRESS"})
    assert claimed["accepted"] and claimed["result"]["status"] == "IN_PROGRESS"
    done = device_message(chalice_client, api.tenant_id, device_id, suffix,
                          {"status": "SUCCEEDED", "status_details": {"via": "mqtt"}, "expected_version": 2})
    assert done["accepted"] and done["result"]["version_number"] == 3
    # Then the job completed exactly as over HTTP
    final = api.get(f"/customer/jobs/{job['job_id']}").body
    assert final["status"] == "COMPLETED" and final["executions"][0]["status_details"] == {"via": "mqtt"}
    # And illegal or malformed updates are rejected for good (the bridge acks and drops them)
    again = device_message(chalice_client, api.tenant_id, device_id, suffix, {"status": "IN_PROGRESS"})
    assert not again["accepted"] and again["reason"].startswith("conflict")
    bad = device_message(chalice_client, api.tenant_id, device_id, suffix, {"status": "NOPE"})
    assert not bad["accepted"] and "status" in bad["reason"]
    foreign = device_message(chalice_client, api.tenant_id, device_id, "jobs/01nope/update", {"status": "FAILED"})
    assert not foreign["accepted"] and foreign["reason"].startswith("not_found")


def test_concurrent_updates_keep_counters_exact_and_complete_the_job_once(api: Api) -> None:
    # Given a job for 40 devices
    devices = fleet(api, "cc", 40, group_id="cc")
    job = create_job(api, target_group_id="cc")
    service = container().execution_service

    def run(device_id: str) -> None:
        for status in ("IN_PROGRESS", "SUCCEEDED"):
            service.update(api.tenant_id, device_id, job["job_id"],
                           UpdateExecution(status=ExecutionStatus(status)))

    # When every device claims and finishes at the same time as the others
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(run, devices))
    # Then no counter update is lost and the job completed
    final = api.get(f"/customer/jobs/{job['job_id']}").body
    assert final["status"] == "COMPLETED"
    assert final["counts"]["SUCCEEDED"] == 40 and final["counts"]["IN_PROGRESS"] == 0
