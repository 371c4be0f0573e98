"""Input that parses in Python but not as a fleet's data: always a 4xx naming the field, nothing written."""
from __future__ import annotations

import base64
import json

import pytest

from tests.commands_support import ack_http, send
from tests.integration.jobs_support import create_job, fleet
from tests.support import Api


def _cursor(key: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@pytest.mark.parametrize("body", [
    b'{"desired": {"interval_s": NaN}}',
    b'{"desired": {"interval_s": -Infinity}}',
    b'{"desired": {"label": "\\ud800"}}',
])
def test_nan_infinity_and_lone_surrogates_are_400_and_change_nothing(api: Api, body: bytes) -> None:
    # Given a device whose twin is at desired version 0
    device_id, _ = api.create_device()
    # When a PATCH carries a value JSON has no form for
    resp = api.patch(f"/customer/devices/{device_id}/twin/desired", raw=body)
    # Then it is refused as bad JSON, and the twin is untouched
    assert resp.status == 400 and resp.body["field"] == "body", resp.body
    twin = api.get(f"/customer/devices/{device_id}/twin").body
    assert twin["desired_version"] == 0 and twin["desired"] == {}


def test_an_absurd_command_expiry_is_400_naming_it(api: Api) -> None:
    device_id, _ = api.create_device()
    resp = api.post(f"/customer/devices/{device_id}/commands",
                    {"command_type": "ping", "command_params": {}, "expires_in_minutes": 10**13})
    assert resp.status == 400 and resp.body["field"] == "expires_in_minutes", resp.body
    assert api.get(f"/customer/devices/{device_id}/commands").body == []


@pytest.mark.parametrize("cron", ["R 6 * * *", "0 6 L * *", "0 6 * * 5#3", "0 6 15W * *", "0 " * 101 + "6 * * *"])
def test_cron_a_device_could_not_run_is_400_naming_it(api: Api, cron: str) -> None:
    resp = api.post("/customer/sites", {"site_id": "odd", "name": "Odd", "wake_schedule_cron": cron,
                                        "timezone": "UTC"})
    assert resp.status == 400 and resp.body["field"] == "wake_schedule_cron", resp.body
    assert api.get("/customer/sites/odd").status == 404


def test_crafted_or_foreign_cursors_are_400_on_every_listing(api: Api) -> None:
    # Given a device with a command history and a group
    device_id, _ = api.create_device()
    for _ in range(3):
        send(api, device_id)
    api.post("/customer/groups", {"group_id": "g1", "name": "G"})
    history_cursor = api.get(f"/customer/devices/{device_id}/commands?limit=1").headers["X-Next-Token"]
    device_key = f"{api.tenant_id}#{device_id}"
    crafted = {
        "not a dict value": _cursor({"tenant_id": "x"}),
        "wrong type": _cursor({"tenant_id": {"S": api.tenant_id}, "device_id": {"BOOL": True}}),
        "missing sort key": _cursor({"tenant_id": {"S": api.tenant_id}}),
        "extra key": _cursor({"tenant_id": {"S": api.tenant_id}, "device_id": {"S": "a"}, "x": {"S": "y"}}),
    }
    # When listings are called with cursors that are not theirs
    for label, token in crafted.items():
        for path in ("/customer/devices", "/customer/groups", "/customer/sites", "/customer/jobs"):
            resp = api.get(f"{path}?next_token={token}")
            # Then each answers 400 naming next_token (never a 500 from DynamoDB)
            assert resp.status == 400 and resp.body["field"] == "next_token", (label, path, resp.body)
    # A history cursor reused on the queued-only listing (another index, other keys) is refused too
    reused = api.get(f"/customer/devices/{device_id}/commands?status=queued&next_token={history_cursor}")
    assert reused.status == 400 and reused.body["field"] == "next_token", reused.body
    wrong_shape = _cursor({"device_key": {"S": device_key}, "command_id": {"N": "1"}, "other": {"S": "x"}})
    resp = api.get(f"/customer/devices/{device_id}/commands?status=delivered&next_token={wrong_shape}")
    assert resp.status == 400 and resp.body["field"] == "next_token", resp.body


def test_a_status_filter_pages_through_the_history_and_finds_every_match(api: Api) -> None:
    # Given 6 commands of which 2 were acknowledged
    device_id, token = api.create_device()
    sent = [send(api, device_id)["command_id"] for _ in range(6)]
    for command_id in (sent[1], sent[4]):
        assert ack_http(api, token, command_id).status == 200
    # When the delivered ones are listed one at a time, following next_token
    found: list[str] = []
    path = f"/customer/devices/{device_id}/commands?status=delivered&limit=1"
    next_token = None
    for _ in range(10):
        resp = api.get(path + (f"&next_token={next_token}" if next_token else ""))
        assert resp.status == 200, resp.body
        assert len(resp.body) <= 1
        found += [c["command_id"] for c in resp.body]
        next_token = resp.headers.get("X-Next-Token")
        if not next_token:
            break
    # Then both are found, newest first, and nothing else
    assert found == [sent[4], sent[1]]


def test_the_job_list_status_filter_pages_without_losing_jobs(api: Api) -> None:
    # Given three jobs, one of them canceled
    devices = fleet(api, "hf", 1)
    device_id = next(iter(devices))
    jobs = [create_job(api, document_type="reboot", document_params={}, target_device_id=device_id)["job_id"]
            for _ in range(3)]
    assert api.delete(f"/customer/jobs/{jobs[1]}").status == 200
    # When IN_PROGRESS jobs are listed one per page
    found: list[str] = []
    next_token = None
    for _ in range(10):
        query = "status=IN_PROGRESS&limit=1" + (f"&next_token={next_token}" if next_token else "")
        body = api.get(f"/customer/jobs?{query}").body
        found += [j["job_id"] for j in body["jobs"]]
        next_token = body["next_token"]
        if not next_token:
            break
    # Then the two that are still running are found, newest first
    assert found == [jobs[2], jobs[0]]
