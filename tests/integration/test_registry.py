"""Device registry and groups over the real code path (moto server + Mosquitto)."""
from __future__ import annotations

from tests.support import Api


def test_create_device_returns_token_once_and_get_hides_it(api: Api) -> None:
    # Given a new device
    resp = api.post("/customer/devices", {"device_id": "cam-1", "name": "Camera 1", "attributes": {"fw": "1.0"}})
    # Then the token is in the creation answer only
    assert resp.status == 201
    assert resp.body["provision_token"].startswith("tok_")
    assert resp.body["status"] == "pending_mapping"
    got = api.get("/customer/devices/cam-1")
    assert got.status == 200
    assert "provision_token" not in got.body and "token_hash" not in got.body
    assert got.body["attributes"] == {"fw": "1.0"}


def test_generated_ids_and_duplicate_id_conflict(api: Api) -> None:
    generated, _ = api.create_device()
    assert generated.startswith("dev-")
    api.create_device("dup")
    resp = api.post("/customer/devices", {"device_id": "dup"})
    assert resp.status == 409 and resp.body["field"] == "device_id"


def test_list_paginates_with_next_token(api: Api) -> None:
    for i in range(5):
        api.create_device(f"d{i}")
    seen, token = [], None
    while True:
        path = "/customer/devices?limit=2" + (f"&next_token={token}" if token else "")
        page = api.get(path)
        assert page.status == 200
        seen += [d["device_id"] for d in page.body["devices"]]
        token = page.body["next_token"]
        if not token:
            break
    assert seen == [f"d{i}" for i in range(5)]


def test_bad_bodies_are_400_naming_the_field_and_write_nothing(api: Api) -> None:
    assert api.post("/customer/devices", raw=b"{not json").body["field"] == "body"
    bad_id = api.post("/customer/devices", {"device_id": "has/slash"})
    assert bad_id.status == 400 and bad_id.body["field"] == "device_id"
    unknown = api.post("/customer/devices", {"device_id": "x1", "colour": "red"})
    assert unknown.status == 400 and unknown.body["field"] == "colour"
    wrong_type = api.post("/customer/devices", {"device_id": "x2", "name": 5})
    assert wrong_type.status == 400 and wrong_type.body["field"] == "name"
    assert api.post("/customer/devices", raw=b"x" * 70_000).status == 413
    assert api.get("/customer/devices").body["devices"] == []


def test_missing_or_bad_jwt_is_401(api: Api) -> None:
    assert api.get("/customer/devices", auth=False).status == 401
    assert api.get("/customer/devices", auth=False, headers={"Authorization": "Bearer nope"}).status == 401


def test_delete_revokes_token_at_once(api: Api) -> None:
    device_id, token = api.create_device("gone")
    assert api.device_call("POST", "/device/v1/heartbeat", token).status == 200
    assert api.delete(f"/customer/devices/{device_id}").status == 200
    assert api.device_call("POST", "/device/v1/heartbeat", token).status == 401
    assert api.get(f"/customer/devices/{device_id}").status == 404


def test_rotation_retires_the_old_token(api: Api) -> None:
    device_id, old = api.create_device("rot")
    new = api.post(f"/customer/devices/{device_id}/token").body["provision_token"]
    assert api.device_call("POST", "/device/v1/heartbeat", old).status == 401
    assert api.device_call("POST", "/device/v1/heartbeat", new).status == 200


def test_heartbeat_sets_last_seen(api: Api) -> None:
    device_id, token = api.create_device("hb")
    assert api.get(f"/customer/devices/{device_id}").body["last_seen_at"] is None
    beat = api.device_call("POST", "/device/v1/heartbeat", token)
    assert beat.status == 200 and beat.body["last_seen_at"]
    assert api.get(f"/customer/devices/{device_id}").body["last_seen_at"] is not None


def test_groups_members_and_filter(api: Api) -> None:
    for d in ("g1", "g2", "g3"):
        api.create_device(d)
    assert api.post("/customer/groups", {"group_id": "floor-1", "name": "Floor 1"}).status == 201
    assert api.put("/customer/groups/floor-1/members/g1").status == 201
    assert api.put("/customer/groups/floor-1/members/g1").status == 200  # idempotent
    assert api.put("/customer/groups/floor-1/members/g3").status == 201
    assert api.put("/customer/groups/floor-1/members/nope").status == 404
    group = api.get("/customer/groups/floor-1").body
    assert group["member_count"] == 2 and group["members"] == ["g1", "g3"]
    listed = api.get("/customer/devices?group_id=floor-1").body["devices"]
    assert [d["device_id"] for d in listed] == ["g1", "g3"]
    assert api.delete("/customer/groups/floor-1/members/g1").status == 200
    assert api.delete("/customer/groups/floor-1/members/g1").status == 404
    api.delete("/customer/devices/g3")
    assert api.get("/customer/groups/floor-1").body["member_count"] == 0


def test_foreign_tenant_gets_404_everywhere(api: Api, other_api: Api) -> None:
    _device_id, token = api.create_device("mine")
    api.post("/customer/groups", {"group_id": "grp", "name": "G"})
    api.put("/customer/groups/grp/members/mine")
    for path in ("/customer/devices/mine", "/customer/groups/grp"):
        assert other_api.get(path).status == 404
    assert other_api.delete("/customer/devices/mine").status == 404
    assert other_api.post("/customer/devices/mine/token").status == 404
    assert other_api.put("/customer/groups/grp/members/mine").status == 404
    assert other_api.delete("/customer/groups/grp/members/mine").status == 404
    assert other_api.get("/customer/devices?group_id=grp").status == 404
    assert other_api.get("/customer/devices").body["devices"] == []
    # A cursor crafted from tenant A's listing is refused for tenant B.
    api.create_device("mine2")
    cursor = api.get("/customer/devices?limit=1").body["next_token"]
    assert other_api.get(f"/customer/devices?next_token={cursor}").status == 400
    # The device still works for its owner.
    assert api.get("/customer/devices/mine").status == 200
    assert api.device_call("POST", "/device/v1/heartbeat", token).status == 200


def test_health_reports_database_and_broker(api: Api) -> None:
    resp = api.get("/health", auth=False)
    assert resp.status == 200
    assert resp.body["database"]["ok"] and resp.body["broker"]["ok"]
