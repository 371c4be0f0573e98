"""Cursors attacked on every listing: replayed by another tenant, moved to another partition, forged.

A next_token is client-held state: whatever it says, a listing answers a 400 naming it or a
page of the caller's own partition, never another tenant's items and never a 500.
"""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.commands_support import ack_http, send
from tests.integration.group_commands_support import finish, send_group
from tests.integration.jobs_support import create_job, fleet
from tests.support import Api, ApiResponse


def _decode(token: str) -> dict[str, Any]:
    return dict(json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))))


def _encode(key: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _token(resp: ApiResponse) -> str:
    token = resp.headers.get("X-Next-Token") if isinstance(resp.body, list) else resp.body["next_token"]
    assert resp.status == 200 and token, (resp.status, resp.body)
    return str(token)


def _listings(api: Api) -> dict[str, str]:
    """Every listing of a tenant with three items or more, by path (limit=1 gives a cursor)."""
    devices = fleet(api, "dev", 3, group_id="g1")
    fleet(api, "other", 3, group_id="g2")
    for site in ("s1", "s2", "s3"):
        resp = api.post("/customer/sites", {"site_id": site, "name": site, "wake_schedule_cron": "0 6 * * *",
                                            "timezone": "UTC"})
        assert resp.status == 201, resp.body
    for device_id in devices:
        resp = api.put(f"/customer/devices/{device_id}/site", {"site_id": "s1"})
        assert resp.status == 200, resp.body
    device_id, token = next(iter(devices.items()))
    for i in range(6):
        command = send(api, device_id)
        if i % 2:
            ack_http(api, token, command["command_id"])
    jobs = [create_job(api, target_group_id=g) for g in ("g1", "g1", "g2")]
    batch = finish(api, send_group(api, "g1"))
    send_group(api, "g2")
    send_group(api, "g1")
    return {
        "devices": "/customer/devices?limit=1",
        "devices by status": "/customer/devices?limit=1&status=active",
        "devices by site": "/customer/devices?limit=1&site_id=s1",
        "devices by site and status": "/customer/devices?limit=1&site_id=s1&status=active",
        "devices by group": "/customer/devices?limit=1&group_id=g1",
        "groups": "/customer/groups?limit=1",
        "group members": "/customer/groups/g1?limit=1",
        "sites": "/customer/sites?limit=1",
        "jobs": "/customer/jobs?limit=1",
        "jobs by status": "/customer/jobs?limit=1&status=IN_PROGRESS",
        "job executions": f"/customer/jobs/{jobs[0]['job_id']}?limit=1",
        "commands": f"/customer/devices/{device_id}/commands?limit=1",
        "queued commands": f"/customer/devices/{device_id}/commands?limit=1&status=queued",
        "delivered commands": f"/customer/devices/{device_id}/commands?limit=1&status=delivered",
        "command batches": "/customer/command-batches?limit=1",
        "batch members": f"/customer/command-batches/{batch['batch_id']}?limit=1",
    }


def _refused_or_own(resp: ApiResponse, foreign: set[str], label: str) -> None:
    assert resp.status in (200, 400), (label, resp.status, resp.body)
    if resp.status == 400:
        assert resp.body["field"] == "next_token", (label, resp.body)
    else:
        text = json.dumps(resp.body)
        assert not any(f in text for f in foreign), (label, resp.body)


@pytest.fixture
def seeded(api: Api, other_api: Api) -> tuple[dict[str, str], dict[str, str]]:
    return _listings(api), _listings(other_api)


def test_another_tenants_cursor_is_refused_on_every_listing(api: Api, other_api: Api,
                                                            seeded: tuple[dict[str, str], dict[str, str]]) -> None:
    # Given two tenants with the same shape of data (same device, group, site ids)
    mine, theirs = seeded
    for label, path in mine.items():
        # When the other tenant's cursor of the same listing is replayed by this one
        foreign = _token(other_api.get(theirs[label]))
        resp = api.get(f"{path}&next_token={foreign}")
        # Then it is a 400 naming next_token, never the other tenant's page
        assert resp.status == 400 and resp.body["field"] == "next_token", (label, resp.status, resp.body)


def test_a_cursor_moved_to_another_partition_of_the_same_tenant_is_refused(
        api: Api, seeded: tuple[dict[str, str], dict[str, str]]) -> None:
    mine, _ = seeded
    members = _token(api.get(mine["group members"]))
    resp = api.get(f"/customer/groups/g2?limit=1&next_token={members}")
    assert resp.status == 400 and resp.body["field"] == "next_token", resp.body
    by_active = _token(api.get(mine["devices by status"]))
    resp = api.get(f"/customer/devices?limit=1&status=disabled&next_token={by_active}")
    assert resp.status == 400 and resp.body["field"] == "next_token", resp.body
    for label, path in mine.items():
        cursor = _token(api.get(path))
        for other_label, other_path in mine.items():
            if other_label == label:
                continue
            # Any listing's cursor on any other listing: refused, or a page of the caller's own data
            resp = api.get(f"{other_path}&next_token={cursor}")
            assert resp.status in (200, 400), (label, other_label, resp.status, resp.body)
            if resp.status == 400:
                assert resp.body["field"] == "next_token", (label, other_label, resp.body)


def test_forged_cursors_with_the_right_partition_are_never_a_500(
        api: Api, seeded: tuple[dict[str, str], dict[str, str]]) -> None:
    mine, _ = seeded
    wrong: list[tuple[str, str, int]] = []
    for label, path in mine.items():
        genuine = _decode(_token(api.get(path)))
        forgeries: dict[str, dict[str, Any]] = {}
        for name, value in genuine.items():
            kind, text = next(iter(value.items()))
            flipped = {"N": "1"} if kind == "S" else {"S": "x"}
            forgeries[f"{name} of the other type"] = {**genuine, name: flipped}
            forgeries[f"{name} empty"] = {**genuine, name: {kind: ""}}
            if kind == "S":
                forgeries[f"{name} with a '#'"] = {**genuine, name: {"S": text + "#zz#"}}
                forgeries[f"{name} huge"] = {**genuine, name: {"S": "z" * 3000}}
                forgeries[f"{name} before all"] = {**genuine, name: {"S": "!"}}
            else:
                forgeries[f"{name} not a number"] = {**genuine, name: {"N": "abc"}}
        for what, key in forgeries.items():
            resp = api.get(f"{path}&next_token={_encode(key)}")
            if resp.status not in (200, 400) or (resp.status == 400 and resp.body["field"] != "next_token"):
                wrong.append((label, what, resp.status))
    assert not wrong, "\n".join(map(str, wrong))
