"""Devices authenticate to Mosquitto with their token and stay inside their subtree."""
from __future__ import annotations

import queue

import pytest

from tests.conftest import Stack
from tests.support import Api


def test_device_connects_with_token_and_is_confined_to_its_subtree(stack: Stack, api: Api) -> None:
    a_id, a_token = api.create_device("acl-a")
    b_id, _ = api.create_device("acl-b")
    device = stack.device_peer(a_id, a_token)
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
    refused = stack.peer(device_id, "tok_wrong", wait=False)
    assert not refused.connected.wait(1.5)
    refused.close()
    api.post(f"/customer/devices/{device_id}/token")
    stale = stack.device_peer(device_id, token, wait=False)
    assert not stale.connected.wait(1.5)
    stale.close()


def test_tenant_qualified_username_always_works(stack: Stack, api: Api) -> None:
    device_id, token = api.create_device("acl-q")
    peer = stack.device_peer(f"{api.tenant_id}/{device_id}", token)
    assert peer.connected.is_set()
    peer.close()
