"""Command API contract: validation, idempotency, ACK rules, tenant isolation."""
from __future__ import annotations

from datetime import datetime

import pytest
from chalice.test import Client

from chalicelib.commands.device_service import DeviceCommandService
from chalicelib.commands.schemas import AckCommand
from chalicelib.container import container
from chalicelib.core.errors import Conflict
from tests.commands_support import ack_http, command, drain, forward_device_messages, minutes_from_now, run_expiry, send
from tests.conftest import Stack
from tests.support import Api

FIRMWARE = {"url": "https://fw.example.com/cam-2.1.0.bin", "version": "2.1.0", "sha256": "ab" * 32}


@pytest.mark.parametrize(("command_type", "params", "field"), [
    ("update_firmware", {"url": "https://fw.example.com/x.bin", "version": "2.1.0"}, "command_params.sha256"),
    ("update_firmware", {**FIRMWARE, "sha256": "not-hex"}, "command_params.sha256"),
    ("update_firmware", {**FIRMWARE, "url": "ftp://fw.example.com/x.bin"}, "command_params.url"),
    ("set_wake_schedule", {"cron": "every morning"}, "command_params.cron"),
    ("set_wake_schedule", {"cron": "0 6 * * *", "timezone": "Mars/Olympus"}, "command_params.timezone"),
    ("reboot", {"delay_s": -1}, "command_params.delay_s"),
    ("send_image", {}, "command_params.image_name"),
    ("update_config", {"config": {}}, "command_params.config"),
    ("ping", {"extra": 1}, "command_params.extra"),
])
def test_known_command_types_reject_bad_parameters_naming_them(api: Api, command_type: str, params: dict,
                                                               field: str) -> None:
    device_id, _ = api.create_device()
    resp = api.post(f"/customer/devices/{device_id}/commands", {"command_type": command_type, "command_params": params})
    assert resp.status == 400 and resp.body["field"] == field, resp.body
    assert api.get(f"/customer/devices/{device_id}/commands").body == []


def test_valid_known_and_free_form_commands_are_accepted_as_sent(api: Api) -> None:
    device_id, _ = api.create_device()
    firmware = send(api, device_id, "update_firmware", FIRMWARE)
    assert command(api, device_id, firmware["command_id"])["command_params"] == FIRMWARE
    wake = send(api, device_id, "set_wake_schedule", {"cron": "0 6 * * *", "timezone": "Europe/Berlin",
                                                      "site_id": "s1", "site_name": "North"})
    assert wake["command_type"] == "set_wake_schedule"
    anything = send(api, device_id, "flush_buffer", {"target": "logs", "nested": {"a": [1, 2]}})
    assert anything["command_params"] == {"target": "logs", "nested": {"a": [1, 2]}}


@pytest.mark.parametrize(("body", "field"), [
    ({"command_type": "Bad Type"}, "command_type"),
    ({"command_type": "ping", "command_params": [1]}, "command_params"),
    ({"command_type": "ping", "expires_in_minutes": 0}, "expires_in_minutes"),
    ({"command_type": "ping", "expires_in_minutes": 10 ** 7}, "expires_in_minutes"),
    ({"command_type": "ping", "client_token": "has space"}, "client_token"),
    ({"command_type": "ping", "priority": 1}, "priority"),
])
def test_bad_bodies_are_400_naming_the_field(api: Api, body: dict, field: str) -> None:
    device_id, _ = api.create_device()
    resp = api.post(f"/customer/devices/{device_id}/commands", body)
    assert resp.status == 400 and resp.body["field"] == field, resp.body


def test_default_expiry_is_one_hour(api: Api) -> None:
    device_id, _ = api.create_device()
    created = command(api, device_id, send(api, device_id, "ping")["command_id"])
    from datetime import datetime

    lifetime = datetime.fromisoformat(created["expires_at"]) - datetime.fromisoformat(created["created_at"])
    assert lifetime.total_seconds() == 3600


def test_unknown_device_is_404_and_disabled_device_is_409(api: Api) -> None:
    assert api.post("/customer/devices/ghost/commands", {"command_type": "ping"}).status == 404
    assert api.get("/customer/devices/ghost/commands").status == 404
    device_id, _ = api.create_device()
    container().device_service.set_enabled(api.tenant_id, device_id, False)
    resp = api.post(f"/customer/devices/{device_id}/commands", {"command_type": "ping"})
    assert resp.status == 409 and resp.body["field"] == "device_id"
    assert api.get(f"/customer/devices/{device_id}/commands").body == []


def test_same_client_token_and_body_returns_the_original_without_a_second_publish(stack: Stack, api: Api) -> None:
    # Given a watcher of the device's command topic
    device_id, _ = api.create_device()
    watcher = stack.observer()
    watcher.subscribe(f"tenant/{api.tenant_id}/device/{device_id}/commands")
    body = {"command_type": "reboot", "command_params": {"delay_s": 1}, "client_token": "op-42"}
    # When the same request is sent twice
    first = api.post(f"/customer/devices/{device_id}/commands", body)
    again = api.post(f"/customer/devices/{device_id}/commands", body)
    # Then both answers name the same command, and it was published once
    assert first.status == 201 and again.status == 201
    assert again.body["command_id"] == first.body["command_id"]
    assert len(drain(watcher)) == 1
    assert len(api.get(f"/customer/devices/{device_id}/commands").body) == 1
    watcher.close()


def test_same_client_token_with_a_different_body_is_409(api: Api) -> None:
    device_id, _ = api.create_device()
    other_id, _ = api.create_device()
    first = send(api, device_id, "reboot", {"delay_s": 1}, client_token="op-43")
    changed = api.post(f"/customer/devices/{device_id}/commands",
                       {"command_type": "reboot", "command_params": {"delay_s": 2}, "client_token": "op-43"})
    assert changed.status == 409 and changed.body["field"] == "client_token"
    assert changed.body["command_id"] == first["command_id"]
    elsewhere = api.post(f"/customer/devices/{other_id}/commands",
                         {"command_type": "reboot", "command_params": {"delay_s": 1}, "client_token": "op-43"})
    assert elsewhere.status == 409


def test_client_tokens_are_per_tenant(api: Api, other_api: Api) -> None:
    mine, _ = api.create_device("same-name")
    theirs, _ = other_api.create_device("same-name")
    a = send(api, mine, "ping", client_token="shared")
    b = send(other_api, theirs, "ping", client_token="shared")
    assert a["command_id"] != b["command_id"]


def test_repeated_identical_ack_is_harmless_and_a_different_one_is_409(api: Api) -> None:
    device_id, token = api.create_device()
    created = send(api, device_id, "ping")
    assert ack_http(api, token, created["command_id"], "ok", {"message": "pong"}).status == 200
    acked_at = command(api, device_id, created["command_id"])["acked_at"]
    again = ack_http(api, token, created["command_id"], "ok", {"message": "pong"})
    assert again.status == 200 and again.body["acknowledged"] is True
    assert command(api, device_id, created["command_id"])["acked_at"] == acked_at
    different = ack_http(api, token, created["command_id"], "error", {"code": 5})
    assert different.status == 409 and different.body["status"] == "delivered"
    assert command(api, device_id, created["command_id"])["ack_details"]["status"] == "ok"


def test_ack_after_expiry_is_rejected_and_changes_nothing(api: Api) -> None:
    device_id, token = api.create_device()
    created = send(api, device_id, "ping", expires_in_minutes=1)
    run_expiry(minutes_from_now(2))
    resp = ack_http(api, token, created["command_id"])
    assert resp.status == 409 and resp.body["status"] == "missed"
    after = command(api, device_id, created["command_id"])
    assert after["status"] == "missed" and after["acked_at"] is None


def test_ack_past_the_expiry_but_before_the_sweep_is_rejected_too(api: Api) -> None:
    # Given a published command whose expiry passed a moment ago, not yet swept
    device_id, _ = api.create_device()
    created = send(api, device_id, "ping", expires_in_minutes=1)
    c = container()
    late = DeviceCommandService(c.command_repository, c.command_policy, clock=lambda: minutes_from_now(2))
    # When the device ACKs it then
    with pytest.raises(Conflict) as refused:
        late.acknowledge(api.tenant_id, device_id, created["command_id"], AckCommand(status="ok"))
    # Then the ACK is refused naming the expiry, and the sweep closes it as missed, never delivered
    assert "expired at" in refused.value.message and refused.value.field == "command_id"
    assert refused.value.extra["expires_at"] == datetime.fromisoformat(created["expires_at"])
    assert command(api, device_id, created["command_id"])["status"] == "queued"
    run_expiry(minutes_from_now(2))
    assert command(api, device_id, created["command_id"])["status"] == "missed"


def test_ack_of_unknown_command_is_404_and_bad_ack_body_is_400(api: Api) -> None:
    device_id, token = api.create_device()
    assert ack_http(api, token, "01jzzzzzzzzzzzzzzzzzzzzzzz").status == 404
    assert ack_http(api, token, "bad id!").status == 404
    created = send(api, device_id, "ping")
    missing_status = api.device_call("POST", f"/device/v1/commands/{created['command_id']}/ack", token, {"details": {}})
    assert missing_status.status == 400 and missing_status.body["field"] == "status"
    assert api.device_call("GET", "/device/v1/commands/pending", "tok_wrong").status == 401


def test_other_tenants_and_devices_cannot_see_or_ack_a_command(stack: Stack, api: Api, other_api: Api,
                                                               chalice_client: Client) -> None:
    # Given a command of one tenant's device
    device_id, _ = api.create_device("shared-id")
    api.create_device("not-theirs")
    created = send(api, device_id, "ping")
    path = f"/customer/devices/{device_id}/commands"
    # Then another tenant (even with a device of the same id) gets 404 everywhere
    _, foreign_token = other_api.create_device("shared-id")
    assert other_api.get(f"{path}/{created['command_id']}").status == 404
    assert other_api.post("/customer/devices/not-theirs/commands", {"command_type": "ping"}).status == 404
    assert other_api.get(path).status == 200 and other_api.get(path).body == []
    assert ack_http(other_api, foreign_token, created["command_id"]).status == 404
    # And a sibling device of the same tenant cannot ACK it over HTTP or MQTT
    sibling_id, sibling_token = api.create_device()
    assert ack_http(api, sibling_token, created["command_id"]).status == 404
    acks = stack.observer()
    acks.subscribe(f"tenant/{api.tenant_id}/device/+/commands/ack")
    peer = stack.device_peer(api.tenant_id, sibling_id, sibling_token)
    peer.publish(f"tenant/{api.tenant_id}/device/{sibling_id}/commands/ack",
                 {"command_id": created["command_id"], "status": "ok"})
    [outcome] = forward_device_messages(chalice_client, acks, 1)
    assert outcome["accepted"] is False and "not_found" in outcome["reason"]
    assert command(api, device_id, created["command_id"])["status"] == "queued"
    peer.close()
    acks.close()


def test_malformed_mqtt_ack_is_rejected_for_good(stack: Stack, api: Api, chalice_client: Client) -> None:
    device_id, token = api.create_device()
    acks = stack.observer()
    acks.subscribe(f"tenant/{api.tenant_id}/device/+/commands/ack")
    peer = stack.device_peer(api.tenant_id, device_id, token)
    peer.publish(f"tenant/{api.tenant_id}/device/{device_id}/commands/ack", {"status": "ok"})
    [outcome] = forward_device_messages(chalice_client, acks, 1)
    assert outcome["accepted"] is False and "command_id" in outcome["reason"]
    peer.close()
    acks.close()
