"""Bulk device import: rows become devices (or say why not), in chunks, with credentials downloadable once."""
from __future__ import annotations

from typing import Any

from tests.integration.imports_support import JSONL, all_results, csv_body, finish, jsonl_body, post_import
from tests.support import Api


def _site(api: Api, site_id: str = "barn") -> None:
    assert api.post("/customer/sites", {"site_id": site_id, "name": "Barn", "wake_schedule_cron": "0 6 * * *"}
                    ).status == 201


def _group(api: Api, group_id: str) -> None:
    assert api.post("/customer/groups", {"group_id": group_id, "name": group_id}).status == 201


def test_a_csv_import_creates_devices_in_groups_and_sites_and_says_why_other_rows_were_not(api: Api) -> None:
    # Given a tenant with a group, a site and one device already registered
    _group(api, "floor-1")
    _site(api)
    api.create_device("cam-2")
    rows: list[dict[str, Any]] = [
        {"device_id": "cam-1", "name": "Camera 1", "attributes": {"model": "esp32"}, "groups": ["floor-1"]},
        {"device_id": "cam-2", "name": "Already here"},
        {"device_id": "cam-3", "site": "barn"},
        {"device_id": "bad id!"},
        {"device_id": "cam-4", "groups": ["no-such-group"]},
        {"device_id": "cam-5", "site": "no-such-site"},
        {"device_id": "cam-1", "name": "Twice"},
        {"name": "Generated id", "groups": ["floor-1"]},
    ]
    # When the operator imports them as CSV
    resp = post_import(api, csv_body(rows))
    # Then the import is accepted with an id and every row gets its outcome
    assert resp.status == 202, resp.body
    view = finish(api, resp.body["import_id"])
    assert (view["rows"], view["created"], view["existed"], view["refused"]) == (8, 3, 1, 4)
    results = {r["row"]: r for r in all_results(api, view["import_id"])}
    assert [results[n]["outcome"] for n in range(1, 9)] == [
        "created", "existed", "created", "refused", "refused", "refused", "refused", "created"]
    assert results[4]["field"] == "device_id" and "id" in results[4]["reason"]
    assert (results[5]["reason"], results[5]["field"]) == ("group no-such-group not found", "groups")
    assert (results[6]["reason"], results[6]["field"]) == ("site no-such-site not found", "site")
    assert results[7]["reason"] == "device_id cam-1 is also on row 1"
    generated = results[8]["device_id"]
    assert generated.startswith("dev-")
    # And the devices are in the registry as imported: grouped ones pending_mapping, the mapped one active
    cam1 = api.get("/customer/devices/cam-1").body
    assert (cam1["name"], cam1["attributes"], cam1["status"]) == ("Camera 1", {"model": "esp32"}, "pending_mapping")
    group = api.get("/customer/groups/floor-1").body
    assert group["member_count"] == 2
    members = api.get("/customer/devices?group_id=floor-1").body["devices"]
    assert sorted(d["device_id"] for d in members) == sorted(["cam-1", generated])
    cam3 = api.get("/customer/devices/cam-3").body
    assert (cam3["status"], cam3["site_id"]) == ("active", "barn") and cam3["next_wake_at"]
    assert api.get("/customer/sites/barn").body["device_count"] == 1
    # And the existing device was left as it was
    assert api.get("/customer/devices/cam-2").body.get("name") is None
    # And the mapped device got its welcome set_wake_schedule (seed 002)
    welcome = api.get("/customer/devices/cam-3/commands").body
    assert [c["command_type"] for c in welcome] == ["set_wake_schedule"]
    assert welcome[0]["command_params"]["site_id"] == "barn"


def test_refused_rows_page_by_row_number(api: Api) -> None:
    # Given an import of 30 rows, every third one malformed
    rows = [{"device_id": f"d-{i}" if i % 3 else f"bad/{i}"} for i in range(30)]
    view = finish(api, post_import(api, jsonl_body(rows), JSONL).body["import_id"])
    assert (view["created"], view["refused"]) == (20, 10)
    # When the operator pages through the refused rows four at a time
    refused = all_results(api, view["import_id"], outcome="refused", limit=4)
    # Then every refused row is listed once, in row order, with its number
    assert [r["row"] for r in refused] == [i + 1 for i in range(0, 30, 3)]
    assert all(r["field"] == "device_id" for r in refused)


def test_credentials_are_downloadable_once_and_each_token_works(api: Api) -> None:
    # Given an import that created three devices
    view = finish(api, post_import(api, jsonl_body([{"device_id": f"t-{i}"} for i in range(3)]), JSONL
                                   ).body["import_id"])
    assert view["credentials"] == "available"
    # When the operator downloads the credentials
    first = api.post(f"/customer/device-imports/{view['import_id']}/credentials")
    # Then each created device's token is there once, and it authenticates the device
    assert first.status == 200, first.body
    creds = {c["device_id"]: c for c in first.body["credentials"]}
    assert sorted(creds) == ["t-0", "t-1", "t-2"]
    assert creds["t-1"]["mqtt_username"] == f"{api.tenant_id}.t-1"
    beat = api.device_call("POST", "/device/v1/heartbeat", creds["t-1"]["provision_token"])
    assert beat.status == 200, beat.body
    # And a second download gets nothing: the tokens are gone
    second = api.post(f"/customer/device-imports/{view['import_id']}/credentials")
    assert second.status == 409 and second.body["credentials"] == "downloaded"
    assert "provision_token" not in str(second.body)
    assert api.get(f"/customer/device-imports/{view['import_id']}").body["credentials"] == "downloaded"


def test_a_client_token_makes_the_import_idempotent(api: Api) -> None:
    body = csv_body([{"device_id": "i-1"}, {"device_id": "i-2"}])
    # Given an import sent with a client token
    first = post_import(api, body, client_token="batch-42")
    assert first.status == 202
    # When the same request is sent again
    again = post_import(api, body, client_token="batch-42")
    # Then the first import is answered (200) and nothing is created twice
    assert again.status == 200 and again.body["import_id"] == first.body["import_id"]
    listed = api.get("/customer/device-imports").body["imports"]
    assert [i["import_id"] for i in listed] == [first.body["import_id"]]
    # And another body under the same token is a 409 naming client_token
    other = post_import(api, csv_body([{"device_id": "i-3"}]), client_token="batch-42")
    assert other.status == 409 and other.body["field"] == "client_token"
    assert api.get("/customer/devices/i-3").status == 404


def test_bad_bodies_are_refused_whole_naming_the_problem(api: Api) -> None:
    cases = [
        (b'{"device_id": "x"}', "application/json", "Content-Type"),
        (b"", "text/csv", "body"),
        (b"device_id,colour\nx,red\n", "text/csv", "body"),
        (b"device_id\n\n", "text/csv", "body"),
        (b"\xff\xfe", "text/csv", "body"),
    ]
    for body, content_type, field in cases:
        resp = post_import(api, body, content_type)
        assert (resp.status, resp.body["field"]) == (400, field), (body, resp.body)
    # A type the route does not take at all is the edge's 415, in the one error shape
    xml = post_import(api, b"<devices/>", "application/xml")
    assert (xml.status, xml.body["error"]) == (415, "unsupported_media_type")
    assert api.get("/customer/device-imports").body["imports"] == []


def test_a_body_over_the_row_limit_is_refused(api: Api, monkeypatch: object) -> None:
    from chalicelib.container import container

    limit = container().settings.device_imports.max_rows
    body = b"device_id\n" + b"".join(f"r-{i}\n".encode() for i in range(limit + 1))
    resp = post_import(api, body)
    assert resp.status == 400 and resp.body["field"] == "body" and str(limit) in resp.body["message"]


def test_another_tenants_import_is_not_found_and_its_groups_are_not_yours(api: Api, other_api: Api) -> None:
    # Given another tenant with a group and a device named like mine
    _group(other_api, "theirs")
    other_api.create_device("same-name")
    view = finish(other_api, post_import(other_api, csv_body([{"device_id": "x-1"}])).body["import_id"])
    # Then my tenant cannot see or download their import
    assert api.get(f"/customer/device-imports/{view['import_id']}").status == 404
    assert api.post(f"/customer/device-imports/{view['import_id']}/credentials").status == 404
    # And my import cannot join their group; a device id they use is mine to create
    mine = finish(api, post_import(api, csv_body([{"device_id": "y-1", "groups": ["theirs"]},
                                                  {"device_id": "same-name"}])).body["import_id"])
    assert (mine["created"], mine["refused"]) == (1, 1)
    assert other_api.get("/customer/groups/theirs").body["member_count"] == 0
    assert other_api.get("/customer/devices/same-name").status == 200
    # And a malformed cursor is a 400 naming next_token
    bad = api.get(f"/customer/device-imports/{mine['import_id']}?next_token=abc")
    assert (bad.status, bad.body["field"]) == (400, "next_token")
