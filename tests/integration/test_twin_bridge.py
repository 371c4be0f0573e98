"""Twin reports end to end over MQTT: device -> Mosquitto -> bridge -> device-message Lambda."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from infra.local.simulator import DeviceIdentity, build_device
from mqtt_bridge.bridge import Bridge
from tests.conftest import Stack
from tests.integration.bridge_support import in_process_bridge
from tests.support import Api


@pytest.fixture(scope="module")
def bridge(stack: Stack) -> Iterator[Bridge]:
    with in_process_bridge(stack, "twin") as running:
        yield running


def _until(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def test_report_over_mqtt_syncs_the_twin(stack: Stack, api: Api, bridge: Bridge) -> None:
    device_id, token = api.create_device("twin-br")
    api.patch(f"/customer/devices/{device_id}/twin/desired", {"desired": {"rate": 5}})
    device = stack.device_peer(api.tenant_id, device_id, token)
    topic = f"tenant/{api.tenant_id}/device/{device_id}/shadow/reported"

    device.publish(topic, {"reported": {"rate": 5}, "version": 1})
    twin = lambda: api.get(f"/customer/devices/{device_id}/twin").body  # noqa: E731
    try:
        assert _until(lambda: twin()["sync_status"] == "synced"), twin()
    finally:
        device.close()
    assert twin()["reported"] == {"rate": 5} and twin()["reported_version"] == 1


def test_a_rejected_report_does_not_block_the_next_one(stack: Stack, api: Api, bridge: Bridge) -> None:
    device_id, token = api.create_device("twin-br-rej")
    api.patch(f"/customer/devices/{device_id}/twin/desired", {"desired": {"rate": 1}})
    device = stack.device_peer(api.tenant_id, device_id, token)
    topic = f"tenant/{api.tenant_id}/device/{device_id}/shadow/reported"
    # Given a report claiming a version never desired (rejected for good, not retried)
    device.publish(topic, {"reported": {"rate": 99}, "version": 7})

    # When a valid report follows, it gets through, and the bogus state was never stored
    device.publish(topic, {"reported": {"rate": 1}, "version": 1})
    try:
        assert _until(lambda: api.get(f"/customer/devices/{device_id}/twin").body["reported_version"] == 1)
    finally:
        device.close()
    assert api.get(f"/customer/devices/{device_id}/twin").body["reported"] == {"rate": 1}


def test_simulated_device_turns_a_patch_pending_then_synced(stack: Stack, api: Api, bridge: Bridge) -> None:
    device_id, token = api.create_device("twin-br-sim")
    stack.sync.sync_once()
    sim = build_device(DeviceIdentity(api.tenant_id, device_id, token), stack.broker.host, stack.broker.port,
                       "http://127.0.0.1:9", heartbeat_s=3600).start()
    twin = f"/customer/devices/{device_id}/twin"
    try:
        assert sim.connected.wait(5)
        # The device's own "online" status went through the bridge: it counts as seen
        assert _until(lambda: api.get(twin).body["last_seen_at"] is not None)
        # When the operator changes a setting
        patched = api.patch(f"{twin}/desired", {"desired": {"interval_s": 30}})
        # Then the twin is pending at once and synced shortly after, with nobody but the device acting
        assert patched.body["sync_status"] == "pending"
        assert _until(lambda: api.get(twin).body["sync_status"] == "synced", timeout=5)
        version = patched.body["desired_version"]
        assert api.get(f"{twin}/delta").body == {"delta": {}, "in_sync": True,
                                                 "desired_version": version, "reported_version": version}
    finally:
        sim.stop()
