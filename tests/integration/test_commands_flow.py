"""Seed 000 end to end: send, receive over MQTT, ACK (MQTT and HTTP), poll, expire, history."""
from __future__ import annotations

from chalice.test import Client

from chalicelib.commands.device_service import DeviceCommandService
from chalicelib.container import container
from tests.commands_support import ack_http, command, forward_device_messages, minutes_from_now, run_expiry, send
from tests.conftest import Stack
from tests.support import Api, Clock


def test_posted_command_reaches_the_device_and_its_mqtt_ack_delivers_it(
        stack: Stack, api: Api, chalice_client: Client) -> None:
    # (The same flow through the real bridge process is in test_commands_bridge.py; here the
    # test hands the ACK to the device-message function itself, to assert on its outcome.)
    # Given a device subscribed to its command topic, and a watcher of device-to-cloud ACKs
    device_id, token = api.create_device("cam-1")
    device = stack.device_peer(api.tenant_id, device_id, token)
    device.subscribe(f"tenant/{api.tenant_id}/device/{device_id}/commands")
    acks = stack.observer()
    acks.subscribe(f"tenant/{api.tenant_id}/device/+/commands/ack")
    # When the operator sends a ping
    created = send(api, device_id, "ping", {}, expires_in_minutes=60)
    # Then it is stored queued, published at once, and the device receives exactly the payload
    assert created["status"] == "queued" and created["mqtt_published"] is True
    assert created["expires_at"] and created["command_id"]
    topic, payload, retained = device.expect()
    assert topic == f"tenant/{api.tenant_id}/device/{device_id}/commands" and not retained
    assert payload == {"command_id": created["command_id"], "command_type": "ping", "command_params": {},
                       "expires_at": created["expires_at"]}
    assert command(api, device_id, created["command_id"])["published_at"] is not None
    # When the device ACKs over MQTT and the message reaches the device-message function
    device.publish(f"tenant/{api.tenant_id}/device/{device_id}/commands/ack",
                   {"command_id": created["command_id"], "status": "ok", "details": {"message": "pong"}})
    [outcome] = forward_device_messages(chalice_client, acks, 1)
    # Then the command is delivered with the device's details
    assert outcome["accepted"] is True, outcome
    after = command(api, device_id, created["command_id"])
    assert after["status"] == "delivered" and after["acked_at"]
    assert after["ack_details"] == {"status": "ok", "details": {"message": "pong"}}
    device.close()
    acks.close()


def test_http_ack_moves_queued_to_delivered(api: Api) -> None:
    # Given a queued command
    device_id, token = api.create_device()
    created = send(api, device_id, "ping")
    # When the device ACKs over HTTP
    resp = ack_http(api, token, created["command_id"], "ok", {"message": "pong"})
    # Then the answer is the seed's, and the command is delivered with acked_at and ack_details
    assert resp.status == 200 and resp.body == {"command_id": created["command_id"], "acknowledged": True}
    after = command(api, device_id, created["command_id"])
    assert after["status"] == "delivered" and after["acked_at"] is not None
    assert after["ack_details"]["status"] == "ok"


def test_pending_poll_lists_only_unacked_unexpired_commands_oldest_first(api: Api) -> None:
    # Given an ACKed command, and then two that were not ACKed
    device_id, token = api.create_device()
    done = send(api, device_id, "ping")
    ack_http(api, token, done["command_id"])
    assert api.device_call("GET", "/device/v1/commands/pending", token).body == {"commands": []}
    first = send(api, device_id, "flush_buffer", {"target": "logs"})
    second = send(api, device_id, "reboot", {"delay_s": 5})
    # When the device polls
    resp = api.device_call("GET", "/device/v1/commands/pending", token)
    # Then it gets the two queued ones, oldest first, with their parameters
    assert resp.status == 200
    listed = resp.body["commands"]
    assert [c["command_id"] for c in listed] == [first["command_id"], second["command_id"]]
    assert listed[0]["command_type"] == "flush_buffer" and listed[0]["command_params"] == {"target": "logs"}
    # And the poll recorded the hand-over
    assert command(api, device_id, first["command_id"])["fetched_at"] is not None


def test_seed_step_5_pending_count_is_one_after_an_unacked_command(api: Api) -> None:
    device_id, token = api.create_device()
    send(api, device_id, "flush_buffer", {"target": "logs"})
    body = api.device_call("GET", "/device/v1/commands/pending", token).body
    assert f"pending: {len(body['commands'])}" == "pending: 1"


def test_published_command_past_its_expiry_becomes_missed(api: Api) -> None:
    # Given a published command that the device never ACKs
    device_id, token = api.create_device()
    created = send(api, device_id, "test_expiry", {}, expires_in_minutes=1)
    assert created["mqtt_published"] is True
    # When the expiry runs before the command expired, nothing changes
    run_expiry(minutes_from_now(0.5))
    assert command(api, device_id, created["command_id"])["status"] == "queued"
    # When it runs after expires_at
    report = run_expiry(minutes_from_now(2))
    # Then the command is missed, and no longer pending
    assert report["missed"] >= 1
    assert command(api, device_id, created["command_id"])["status"] == "missed"
    assert api.device_call("GET", "/device/v1/commands/pending", token).body["commands"] == []


def test_expired_command_is_not_offered_to_a_poll_before_the_sweep(api: Api) -> None:
    # Given a command that expires in a minute, and no expiry run yet
    device_id, _ = api.create_device()
    send(api, device_id, "ping", expires_in_minutes=1)
    # When the device polls two minutes later
    later = DeviceCommandService(container().command_repository, container().command_policy, Clock(minutes_from_now(2)))
    # Then the command is not offered: "pending" means queued and unexpired
    assert later.pending(api.tenant_id, device_id) == []


def test_history_lists_newest_first_with_a_mix_of_statuses(api: Api) -> None:
    # Given a delivered, a missed and a queued command (seed step 7)
    device_id, token = api.create_device()
    delivered = send(api, device_id, "ping")
    ack_http(api, token, delivered["command_id"])
    missed = send(api, device_id, "test_expiry", expires_in_minutes=1)
    run_expiry(minutes_from_now(2))
    queued = send(api, device_id, "flush_buffer", {"target": "logs"})
    # When the operator lists the history
    resp = api.get(f"/customer/devices/{device_id}/commands")
    # Then it is a JSON array, newest first, with the three statuses
    assert resp.status == 200 and isinstance(resp.body, list)
    assert [(c["command_id"], c["status"]) for c in resp.body] == [
        (queued["command_id"], "queued"), (missed["command_id"], "missed"), (delivered["command_id"], "delivered")]
    assert "X-Next-Token" not in resp.headers
    # And the status filter keeps one status
    only_missed = api.get(f"/customer/devices/{device_id}/commands?status=missed").body
    assert [c["command_id"] for c in only_missed] == [missed["command_id"]]
    only_queued = api.get(f"/customer/devices/{device_id}/commands?status=queued").body
    assert [c["command_id"] for c in only_queued] == [queued["command_id"]]
    assert api.get(f"/customer/devices/{device_id}/commands?status=sent").status == 400


def test_history_paginates_with_the_next_token_header(api: Api) -> None:
    # Given five commands
    device_id, _ = api.create_device()
    sent = [send(api, device_id, "ping")["command_id"] for _ in range(5)]
    # When the operator pages two at a time, following X-Next-Token
    seen: list[str] = []
    token = None
    for _ in range(5):
        path = f"/customer/devices/{device_id}/commands?limit=2" + (f"&next_token={token}" if token else "")
        page = api.get(path)
        assert page.status == 200 and len(page.body) <= 2
        seen += [c["command_id"] for c in page.body]
        token = page.headers.get("X-Next-Token") or page.headers.get("x-next-token")
        if not token:
            break
    # Then every command appears once, newest first
    assert seen == list(reversed(sent))
