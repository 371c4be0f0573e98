"""Twin reports end to end over MQTT: device -> Mosquitto -> bridge -> device-message Lambda."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.local.processes import Child, python_module
from infra.local.simulator import DeviceIdentity, build_device
from tests.conftest import Stack
from tests.support import Api

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bridge(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Child]:
    """The bridge as the local stack runs it, forwarding into the app in its own process."""
    if not (ROOT / "mqtt_bridge" / "__main__.py").exists():
        pytest.skip("the MQTT bridge is not in this tree")
    env = {
        "BRIDGE_MQTT_HOST": stack.broker.host,
        "BRIDGE_MQTT_PORT": str(stack.broker.port),
        "BRIDGE_MQTT_USERNAME": "bridge",
        "BRIDGE_MQTT_PASSWORD": stack.users["bridge"].password,
        "BRIDGE_INVOKER": "in-process",
    }
    child = Child("bridge", python_module("mqtt_bridge"), tmp_path_factory.mktemp("bridge") / "bridge.log", env)
    child.start()
    yield child
    child.stop()


def _until(check: Callable[[], bool], timeout: float = 10.0, retry: Callable[[], Any] | None = None) -> bool:
    """Poll `check`; `retry` re-sends (idempotent) while the bridge may still be subscribing."""
    deadline = time.monotonic() + timeout
    next_retry = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        if check():
            return True
        if retry and time.monotonic() > next_retry:
            retry()
            next_retry = time.monotonic() + 1.0
        time.sleep(0.02)
    return False


def test_report_over_mqtt_syncs_the_twin(stack: Stack, api: Api, bridge: Child) -> None:
    device_id, token = api.create_device("twin-br")
    api.patch(f"/customer/devices/{device_id}/twin/desired", {"desired": {"rate": 5}})
    device = stack.device_peer(device_id, token)
    topic = f"tenant/{api.tenant_id}/device/{device_id}/shadow/reported"

    def report() -> None:
        device.publish(topic, {"reported": {"rate": 5}, "version": 1})

    report()
    twin = lambda: api.get(f"/customer/devices/{device_id}/twin").body  # noqa: E731
    try:
        assert _until(lambda: twin()["sync_status"] == "synced", retry=report), twin()
    finally:
        device.close()
    assert twin()["reported"] == {"rate": 5} and twin()["reported_version"] == 1


def test_a_rejected_report_does_not_block_the_next_one(stack: Stack, api: Api, bridge: Child) -> None:
    device_id, token = api.create_device("twin-br-rej")
    api.patch(f"/customer/devices/{device_id}/twin/desired", {"desired": {"rate": 1}})
    device = stack.device_peer(device_id, token)
    topic = f"tenant/{api.tenant_id}/device/{device_id}/shadow/reported"
    # Given a report claiming a version never desired (rejected for good, not retried)
    device.publish(topic, {"reported": {"rate": 99}, "version": 7})

    def good() -> None:
        device.publish(topic, {"reported": {"rate": 1}, "version": 1})

    # When a valid report follows, it gets through, and the bogus state was never stored
    good()
    try:
        assert _until(lambda: api.get(f"/customer/devices/{device_id}/twin").body["reported_version"] == 1,
                      retry=good)
    finally:
        device.close()
    assert api.get(f"/customer/devices/{device_id}/twin").body["reported"] == {"rate": 1}


def test_simulated_device_turns_a_patch_pending_then_synced(stack: Stack, api: Api, bridge: Child) -> None:
    device_id, token = api.create_device("twin-br-sim")
    stack.sync.sync_once()
    sim = build_device(DeviceIdentity(api.tenant_id, device_id, token), stack.broker.host, stack.broker.port,
                       "http://127.0.0.1:9", heartbeat_s=3600).start()
    twin = f"/customer/devices/{device_id}/twin"
    try:
        assert sim.connected.wait(5)
        # Warm-up: PATCH until a round trip works (the bridge may still be subscribing).
        def warm() -> None:
            api.patch(f"{twin}/desired", {"desired": {"warm": 1}})

        warm()
        assert _until(lambda: api.get(twin).body["sync_status"] == "synced", timeout=15, retry=warm)
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
