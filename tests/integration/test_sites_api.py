"""Site and lifecycle routes over the real code path (moto server + Mosquitto)."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from chalicelib.container import container
from chalicelib.sites.rules import next_wake
from tests.conftest import Stack
from tests.support import Api

BARN = {"site_id": "barn", "name": "Barn", "wake_schedule_cron": "0 6 * * *", "timezone": "Europe/Berlin",
        "program": "pilot-2025", "company": "Acme Farms"}


def _site(api: Api, **overrides: Any) -> dict[str, Any]:
    resp = api.post("/customer/sites", {**BARN, **overrides})
    assert resp.status == 201, resp.body
    return dict(resp.body)


def test_sites_can_be_created_listed_read_updated_and_deleted(api: Api) -> None:
    created = _site(api)
    assert created["device_count"] == 0 and created["program"] == "pilot-2025"
    _site(api, site_id="field", name="Field")
    generated = api.post("/customer/sites", {"name": "Shed", "wake_schedule_cron": "*/30 * * * *"})
    assert generated.status == 201 and generated.body["site_id"].startswith("site-")
    assert generated.body["timezone"] == "UTC"
    first = api.get("/customer/sites?limit=2")
    assert len(first.body["sites"]) == 2 and first.body["next_token"]
    rest = api.get(f"/customer/sites?limit=2&next_token={first.body['next_token']}")
    assert len(first.body["sites"] + rest.body["sites"]) == 3
    patched = api.patch("/customer/sites/barn", {"name": "Red barn", "company": None})
    assert patched.status == 200 and patched.body["name"] == "Red barn" and patched.body["company"] is None
    assert patched.body["schedule_changed"] is False
    assert api.get("/customer/sites/barn").body["name"] == "Red barn"
    assert api.delete("/customer/sites/barn").status == 200
    assert api.get("/customer/sites/barn").status == 404
    assert api.post("/customer/sites", {**BARN, "site_id": "field"}).status == 409


def test_bad_cron_or_timezone_is_400_naming_the_field(api: Api) -> None:
    bad_cron = api.post("/customer/sites", {**BARN, "wake_schedule_cron": "every morning"})
    assert bad_cron.status == 400 and bad_cron.body["field"] == "wake_schedule_cron"
    six_fields = api.post("/customer/sites", {**BARN, "wake_schedule_cron": "0 0 6 * * *"})
    assert six_fields.status == 400 and six_fields.body["field"] == "wake_schedule_cron"
    bad_tz = api.post("/customer/sites", {**BARN, "timezone": "Europe/Atlantis"})
    assert bad_tz.status == 400 and bad_tz.body["field"] == "timezone"
    _site(api)
    assert api.patch("/customer/sites/barn", {"wake_schedule_cron": "0 25 * * *"}).body["field"] == "wake_schedule_cron"
    assert api.patch("/customer/sites/barn", {"timezone": "GMT+1"}).body["field"] == "timezone"
    assert api.patch("/customer/sites/barn", {"timezone": None}).body["field"] == "timezone"
    assert api.get("/customer/sites/barn").body["timezone"] == "Europe/Berlin"
    assert api.put("/customer/devices/x/site", {"site_id": "bad/id"}).body["field"] == "site_id"


def test_mapping_over_http_activates_and_computes_next_wake(api: Api) -> None:
    device_id, _ = api.create_device("cam-1")
    _site(api)
    before = datetime.now(UTC)
    mapped = api.put(f"/customer/devices/{device_id}/site", {"site_id": "barn"})
    assert mapped.status == 200 and mapped.body["changed"] is True
    assert mapped.body["status"] == "active" and mapped.body["site_id"] == "barn"
    got = api.get(f"/customer/devices/{device_id}").body
    assert got["next_wake_at"] == mapped.body["next_wake_at"]
    expected = next_wake("0 6 * * *", "Europe/Berlin", before)
    assert datetime.fromisoformat(got["next_wake_at"].replace("Z", "+00:00")) == expected
    assert api.put(f"/customer/devices/{device_id}/site", {"site_id": "barn"}).body["changed"] is False
    assert api.get("/customer/sites/barn").body["device_count"] == 1


def test_deleting_a_site_with_mapped_devices_is_409_until_they_are_unmapped(api: Api) -> None:
    device_id, _ = api.create_device("cam-2")
    _site(api)
    api.put(f"/customer/devices/{device_id}/site", {"site_id": "barn"})
    refused = api.delete("/customer/sites/barn")
    assert refused.status == 409 and refused.body["device_count"] == 1 and refused.body["field"] == "site_id"
    unmapped = api.delete(f"/customer/devices/{device_id}/site")
    assert unmapped.status == 200 and unmapped.body["status"] == "pending_mapping"
    assert api.delete(f"/customer/devices/{device_id}/site").status == 404
    assert api.delete("/customer/sites/barn").status == 200


def test_device_list_filters_by_site_and_status(api: Api) -> None:
    _site(api)
    _site(api, site_id="field", name="Field")
    for d in ("a1", "a2", "a3", "b1", "p1"):
        api.create_device(d)
    for d in ("a1", "a2", "a3"):
        api.put(f"/customer/devices/{d}/site", {"site_id": "barn"})
    api.put("/customer/devices/b1/site", {"site_id": "field"})
    api.post("/customer/devices/a2/disable")

    def ids(query: str) -> list[str]:
        resp = api.get(f"/customer/devices?{query}")
        assert resp.status == 200, resp.body
        return sorted(d["device_id"] for d in resp.body["devices"])

    assert ids("site_id=barn") == ["a1", "a2", "a3"]
    assert ids("site_id=barn&status=active") == ["a1", "a3"]
    assert ids("site_id=barn&status=disabled") == ["a2"]
    assert ids("status=pending_mapping") == ["p1"]
    assert ids("status=active") == ["a1", "a3", "b1"]
    assert ids("site_id=nowhere") == []
    page = api.get("/customer/devices?site_id=barn&limit=2").body
    assert len(page["devices"]) == 2 and page["next_token"]
    assert api.get(f"/customer/devices?site_id=field&next_token={page['next_token']}").status == 400
    assert api.get("/customer/devices?status=sleeping").body["field"] == "status"
    assert api.get("/customer/devices?site_id=barn&group_id=g").body["field"] == "group_id"


def test_disabled_device_is_refused_on_http_and_mqtt_until_enabled(stack: Stack, api: Api) -> None:
    device_id, token = api.create_device("cam-off")
    assert api.device_call("POST", "/device/v1/heartbeat", token).status == 200
    # When the operator disables it
    disabled = api.post(f"/customer/devices/{device_id}/disable")
    assert disabled.status == 200 and disabled.body["status"] == "disabled"
    # Then its token fails on HTTP, the router rejects its MQTT messages, and the broker refuses it
    assert api.device_call("POST", "/device/v1/heartbeat", token).status == 401
    topic = f"tenant/{api.tenant_id}/device/{device_id}/status"
    outcome = container().device_message_router.handle(topic, json.dumps({"state": "online"}).encode())
    assert not outcome.accepted and "disabled" in outcome.reason
    refused = stack.device_peer(api.tenant_id, device_id, token, wait=False)
    assert not refused.connected.wait(1.5)
    refused.close()
    # When it is enabled again, everything works
    enabled = api.post(f"/customer/devices/{device_id}/enable")
    assert enabled.status == 200 and enabled.body["status"] == "pending_mapping"
    assert api.device_call("POST", "/device/v1/heartbeat", token).status == 200
    assert container().device_message_router.handle(topic, b"{}").accepted
    peer = stack.device_peer(api.tenant_id, device_id, token)
    assert peer.connected.is_set()
    peer.close()


def test_foreign_tenant_gets_404_for_sites_and_lifecycle(api: Api, other_api: Api) -> None:
    device_id, _ = api.create_device("mine")
    _site(api)
    api.put(f"/customer/devices/{device_id}/site", {"site_id": "barn"})
    other_device, _ = other_api.create_device("theirs")
    assert other_api.get("/customer/sites/barn").status == 404
    assert other_api.patch("/customer/sites/barn", {"name": "Mine now"}).status == 404
    assert other_api.delete("/customer/sites/barn").status == 404
    assert other_api.put(f"/customer/devices/{other_device}/site", {"site_id": "barn"}).status == 404
    assert other_api.put(f"/customer/devices/{device_id}/site", {"site_id": "barn"}).status == 404
    assert other_api.delete(f"/customer/devices/{device_id}/site").status == 404
    assert other_api.post(f"/customer/devices/{device_id}/disable").status == 404
    assert other_api.post(f"/customer/devices/{device_id}/enable").status == 404
    assert other_api.get("/customer/sites").body["sites"] == []
    assert other_api.get("/customer/devices?site_id=barn").body["devices"] == []
    # Nothing changed for the owner
    assert api.get("/customer/sites/barn").body["name"] == "Barn"
    assert api.get(f"/customer/devices/{device_id}").body["status"] == "active"


def test_demo_seeding_maps_every_device_but_the_unmapped_one(api: Api) -> None:
    from infra.local.demo_sites import DEMO_SITE, seed_demo_site

    for d in ("sim-1", "sim-2", "sim-3"):
        api.create_device(d)
    seeded = [{"device_id": "sim-1", "options": {}}, {"device_id": "sim-2", "options": {}},
              {"device_id": "sim-3", "options": {"unmapped": True}}]
    extra = seed_demo_site(api.tenant_id, seeded)
    assert extra == {"site_id": DEMO_SITE, "unmapped_devices": ["sim-3"]}
    statuses = {d["device_id"]: d["status"] for d in api.get("/customer/devices").body["devices"]}
    assert statuses == {"sim-1": "active", "sim-2": "active", "sim-3": "pending_mapping"}
    # Seeding again (a restarted stack with a persistent database) changes nothing
    assert seed_demo_site(api.tenant_id, seeded) == extra
    assert api.get(f"/customer/sites/{DEMO_SITE}").body["device_count"] == 2
