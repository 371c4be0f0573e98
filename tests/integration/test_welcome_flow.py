"""Seed 002 end to end: mapping a device sends it `set_wake_schedule` over MQTT through the command channel."""
from __future__ import annotations

import queue
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.sites.rules import next_wake
from tests.conftest import Stack
from tests.support import Api, MqttPeer

BARN = {"site_id": "barn", "name": "Barn", "wake_schedule_cron": "0 6 * * *", "timezone": "Europe/Berlin",
        "program": "pilot"}


def _listening(stack: Stack, api: Api, device_id: str, token: str) -> MqttPeer:
    # Tenant-qualified username: plain device ids may repeat across the session's tenants.
    peer = stack.device_peer(api.tenant_id, device_id, token)
    peer.subscribe(f"tenant/{api.tenant_id}/device/{device_id}/commands")
    return peer


def _welcome(peer: MqttPeer) -> dict[str, Any]:
    topic, payload, retained = peer.expect()
    assert topic.endswith("/commands") and not retained
    assert payload["command_type"] == "set_wake_schedule"
    return dict(payload)


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_mapping_publishes_one_welcome_that_the_device_can_ack(stack: Stack, api: Api) -> None:
    # Given an unmapped device listening on its command topic, and a site
    device_id, token = api.create_device("cam-1")
    device = _listening(stack, api, device_id, token)
    assert api.post("/customer/sites", BARN).status == 201
    # When the operator maps it
    before = datetime.now(UTC)
    mapped = api.put(f"/customer/devices/{device_id}/site", {"site_id": "barn"})
    # Then the device receives exactly one set_wake_schedule with the schedule and the site context
    assert mapped.status == 200 and mapped.body["welcome_command_id"]
    welcome = _welcome(device)
    assert welcome["command_id"] == mapped.body["welcome_command_id"]
    params = welcome["command_params"]
    assert {k: params[k] for k in ("cron", "timezone", "site_id", "site_name", "program")} == {
        "cron": "0 6 * * *", "timezone": "Europe/Berlin", "site_id": "barn", "site_name": "Barn",
        "program": "pilot"}
    assert _iso(params["next_wake_at"]) == next_wake("0 6 * * *", "Europe/Berlin", before)
    assert params["next_wake_at"] == mapped.body["next_wake_at"]
    # The welcome lives at least until the device's next wake
    assert _iso(welcome["expires_at"]) > _iso(params["next_wake_at"])
    # When the same mapping is repeated, nothing more is sent
    assert api.put(f"/customer/devices/{device_id}/site", {"site_id": "barn"}).body["changed"] is False
    with pytest.raises(queue.Empty):
        device.expect(timeout=0.7)
    # When the device ACKs the welcome, the command is delivered
    acked = api.device_call("POST", f"/device/v1/commands/{welcome['command_id']}/ack", token,
                            {"status": "ok", "details": {"applied": True}})
    assert acked.status == 200
    stored = api.get(f"/customer/devices/{device_id}/commands/{welcome['command_id']}").body
    assert stored["status"] == "delivered" and stored["command_type"] == "set_wake_schedule"
    device.close()


def test_remapping_sends_the_new_site_and_a_schedule_change_reaches_every_device(stack: Stack, api: Api) -> None:
    # Given three devices on the barn site, listening
    api.post("/customer/sites", BARN)
    api.post("/customer/sites", {**BARN, "site_id": "field", "name": "Field", "timezone": "America/Chicago"})
    peers = {}
    for i in range(3):
        device_id, token = api.create_device(f"w{i}")
        peers[device_id] = _listening(stack, api, device_id, token)
        api.put(f"/customer/devices/{device_id}/site", {"site_id": "barn"})
        _welcome(peers[device_id])
    # When one moves to the field site, it gets the field's schedule
    api.put("/customer/devices/w2/site", {"site_id": "field"})
    assert _welcome(peers["w2"])["command_params"]["timezone"] == "America/Chicago"
    # When the barn's cron changes
    changed = api.patch("/customer/sites/barn", {"wake_schedule_cron": "15 */2 * * *"})
    assert changed.status == 200 and changed.body["schedule_changed"] and changed.body["devices_notified"] == 2
    # Then both barn devices receive the new schedule, and the moved device nothing
    for device_id in ("w0", "w1"):
        params = _welcome(peers[device_id])["command_params"]
        assert params["cron"] == "15 */2 * * *"
        assert api.get(f"/customer/devices/{device_id}").body["next_wake_at"] == params["next_wake_at"]
    with pytest.raises(queue.Empty):
        peers["w2"].expect(timeout=0.7)
    for peer in peers.values():
        peer.close()


def test_commands_to_a_disabled_device_are_refused_and_it_is_rewelcomed_when_enabled(stack: Stack, api: Api) -> None:
    api.post("/customer/sites", BARN)
    device_id, token = api.create_device("sleepy")
    api.put(f"/customer/devices/{device_id}/site", {"site_id": "barn"})
    api.post(f"/customer/devices/{device_id}/disable")
    refused = api.post(f"/customer/devices/{device_id}/commands", {"command_type": "ping", "command_params": {}})
    assert refused.status == 409
    api.post(f"/customer/devices/{device_id}/enable")
    device = _listening(stack, api, device_id, token)
    pending = api.device_call("GET", "/device/v1/commands/pending", token).body["commands"]
    assert [c["command_type"] for c in pending] == ["set_wake_schedule", "set_wake_schedule"]
    device.close()
