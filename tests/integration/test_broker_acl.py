"""Devices authenticate to Mosquitto with their token and stay inside their subtree."""
from __future__ import annotations

import queue

import pytest

from tests.conftest import Stack
from tests.support import Api


def test_device_connects_with_token_and_is_confined_to_its_subtree(stack: Stack, api: Api) -> None:
    a_id, a_token = api.create_device("acl-a")
    b_id, _ = api.create_device("acl-b")
    device = stack.device_peer(api.tenant_id, a_id, a_token)
    watcher = stack.observer()
    watcher.subscribe(f"tenant/{api.tenant_id}/#")
    # Own subtree: delivered.
    device.publish(f"tenant/{api.tenant_id}/device/{a_id}/status", {"ok": 1})
    topic, _, _ = watcher.expect()
    assert topic.endswith(f"/{a_id}/status")
    # Another device's subtree: the broker drops it silently (MQTT 3.1.1 has no PUBACK error).
    device.publish(f"tenant/{api.tenant_id}/device/{b_id}/status", {"spoof": 1})
    with pytest.raises(queue.Empty):
        watcher.expect(timeout=0.7)
    device.close()
    watcher.close()


def test_wrong_password_and_rotated_token_are_refused(stack: Stack, api: Api) -> None:
    device_id, token = api.create_device("acl-rot")
    refused = stack.peer(f"{api.tenant_id}.{device_id}", "tok_wrong", wait=False)
    assert not refused.connected.wait(1.5)
    refused.close()
    api.post(f"/customer/devices/{device_id}/token")
    stale = stack.device_peer(api.tenant_id, device_id, token, wait=False)
    assert not stale.connected.wait(1.5)
    stale.close()


def test_device_username_is_tenant_dot_device_and_shown_in_the_record(stack: Stack, api: Api) -> None:
    device_id, token = api.create_device("acl-q")
    assert api.get(f"/customer/devices/{device_id}").body["mqtt_username"] == f"{api.tenant_id}.{device_id}"
    peer = stack.device_peer(api.tenant_id, device_id, token)
    assert peer.connected.is_set()
    peer.close()
    bare = stack.peer(device_id, token, wait=False)
    assert not bare.connected.wait(1.5), "the bare device_id is not a broker username"
    bare.close()
