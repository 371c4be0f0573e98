"""A device disabled while connected loses its MQTT session's rights at once."""
from __future__ import annotations

import queue

import pytest

from tests.commands_support import wait_until
from tests.conftest import Stack
from tests.support import Api


def test_a_connected_device_disabled_gets_nothing_more_over_its_open_session(stack: Stack, api: Api) -> None:
    # Given a device connected and subscribed to its commands topic
    device_id, token = api.create_device("cam-live-off")
    peer = stack.device_peer(api.tenant_id, device_id, token)
    topic = f"tenant/{api.tenant_id}/device/{device_id}/commands"
    peer.subscribe(topic)
    cloud = stack.observer()
    try:
        cloud.publish(topic, {"n": 1})
        assert peer.expect()[1] == {"n": 1}
        # When the operator disables it (the broker's files follow the registry)
        assert api.post(f"/customer/devices/{device_id}/disable").status == 200
        stack.sync.sync_once()
        # Then the broker drops its session on the reload, and a message on its subtree no longer reaches it
        assert wait_until(lambda: not peer.client.is_connected(), timeout=5)
        cloud.publish(topic, {"n": 2})
        with pytest.raises(queue.Empty):
            peer.expect(timeout=1.5)
    finally:
        peer.close()
        cloud.close()
