"""A simulated device keeps its twin in sync over MQTT (seed 003, local-stack behaviour)."""
from __future__ import annotations

import base64
import json

from chalice.test import Client

from infra.local.simulator import DeviceIdentity, build_device
from tests.conftest import Stack
from tests.support import Api


def test_simulated_device_takes_a_patch_from_pending_to_synced(stack: Stack, api: Api,
                                                               chalice_client: Client) -> None:
    device_id, token = api.create_device("twin-sim")
    assert api.device_call("POST", "/device/v1/heartbeat", token).status == 200
    stack.sync.sync_once()
    sim = build_device(DeviceIdentity(api.tenant_id, device_id, token), stack.broker.host, stack.broker.port,
                       "http://127.0.0.1:9", heartbeat_s=3600).start()
    # Stands in for the bridge: whatever the device reports goes to the device-message Lambda.
    bridge = stack.observer()
    bridge.subscribe(f"tenant/{api.tenant_id}/device/{device_id}/shadow/reported")
    try:
        assert sim.connected.wait(5)
        patched = api.patch(f"/customer/devices/{device_id}/twin/desired", {"desired": {"interval_s": 30}})
        assert patched.body["sync_status"] == "pending"
        # The device also reports what it runs on connecting (its firmware version): the patch's answer is next
        topic, payload, _ = bridge.expect()
        while payload.get("reported") == {"firmware_version": "1.0.0"} and "version" not in payload:
            topic, payload, _ = bridge.expect()
        assert payload == {"reported": {"interval_s": 30}, "version": 1}
        raw = base64.b64encode(json.dumps(payload).encode()).decode()
        out = chalice_client.lambda_.invoke("device_message", {"topic": topic, "payload_b64": raw})
        assert out.payload["accepted"] is True
        twin = api.get(f"/customer/devices/{device_id}/twin").body
        assert twin["sync_status"] == "synced" and twin["reported"] == {"interval_s": 30}
    finally:
        bridge.close()
        sim.stop()
