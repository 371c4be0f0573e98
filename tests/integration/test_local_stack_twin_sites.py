"""Seed 003 and the site walk-through on `make run`: real API, broker, bridge and simulated devices."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from tests.integration.test_local_stack import running_stack
from tests.stack_support import RunningStack
from tests.support import mqtt_peer

__all__ = ["running_stack"]  # a fixture, used by name


def _eventually(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.2)
        value = read()
    return value


def test_seed_003_twin_steps_on_the_local_stack(running_stack: RunningStack) -> None:
    info = running_stack.info
    api, auth = info["api_url"], {"Authorization": f"Bearer {info['operator_token']}"}
    cam = requests.post(f"{api}/customer/devices", headers=auth, json={"device_id": "twin-cam"}, timeout=5).json()
    device_headers = {"X-Provision-Token": cam["provision_token"]}
    twin_url = f"{api}/customer/devices/twin-cam/twin"
    # Step 3: the twin has every documented field
    twin = requests.get(twin_url, headers=auth, timeout=5).json()
    assert {"desired", "reported", "delta", "desired_version", "reported_version", "sync_status"} <= twin.keys()
    # Step 4: a PATCH moves desired_version to 1
    patched = requests.patch(f"{twin_url}/desired", headers=auth, json={"desired": {"interval_s": 30}}, timeout=5)
    assert patched.status_code == 200 and patched.json()["desired_version"] == 1, patched.text
    # Step 5: a subscriber arriving afterwards still gets the retained desired document
    observer = mqtt_peer(info["mqtt"]["host"], info["mqtt"]["port"], "demo.twin-cam", cam["provision_token"])
    observer.subscribe(f"tenant/{info['tenant_id']}/device/twin-cam/shadow/desired")
    _, retained, was_retained = observer.expect(10)
    observer.close()
    assert was_retained and retained == {"desired": {"interval_s": 30}, "version": 1}
    # Step 6: the device pulls it over HTTP
    pulled = requests.get(f"{api}/device/v1/shadow", headers=device_headers, timeout=5).json()
    assert pulled == {"desired": {"interval_s": 30}, "version": 1}
    # Step 7: its report over HTTP makes the twin synced at version 1
    report = requests.post(f"{api}/device/v1/shadow/reported", headers=device_headers,
                           json={"reported": {"interval_s": 30}, "version": 1}, timeout=5).json()
    assert report == {"accepted": True, "version": 1}
    twin = requests.get(twin_url, headers=auth, timeout=5).json()
    assert (twin["sync_status"], twin["reported_version"]) == ("synced", 1)
    # Step 8: a second PATCH shows up in the delta, not in sync
    requests.patch(f"{twin_url}/desired", headers=auth, json={"desired": {"led": "blue"}}, timeout=5)
    delta = requests.get(f"{twin_url}/delta", headers=auth, timeout=5).json()
    assert delta["delta"] == {"led": "blue"} and delta["in_sync"] is False and delta["desired_version"] == 2


def test_a_demo_device_applies_desired_state_over_mqtt(running_stack: RunningStack) -> None:
    info = running_stack.info
    api, auth = info["api_url"], {"Authorization": f"Bearer {info['operator_token']}"}
    # When the operator changes sim-1's desired state
    version = requests.patch(f"{api}/customer/devices/sim-1/twin/desired", headers=auth,
                             json={"desired": {"sample_rate_hz": 5}}, timeout=5).json()["desired_version"]
    # Then the simulated device applies it and reports back through the bridge: synced
    twin = _eventually(lambda: requests.get(f"{api}/customer/devices/sim-1/twin", headers=auth, timeout=5).json(),
                       lambda t: t["sync_status"] == "synced" and t["reported_version"] >= version)
    assert twin["sync_status"] == "synced" and twin["reported"]["sample_rate_hz"] == 5, twin


def test_mapping_the_unmapped_demo_device_welcomes_it(running_stack: RunningStack) -> None:
    info = running_stack.info
    api, auth = info["api_url"], {"Authorization": f"Bearer {info['operator_token']}"}
    device_id = info["unmapped_devices"][0]
    # When the README's walk-through maps it to the demo site
    mapped = requests.put(f"{api}/customer/devices/{device_id}/site", headers=auth,
                          json={"site_id": info["site_id"]}, timeout=5)
    assert mapped.status_code == 200, mapped.text
    assert mapped.json()["status"] == "active" and mapped.json()["next_wake_at"]
    # Then its welcome set_wake_schedule arrives over MQTT and the simulated device ACKs it
    history = f"{api}/customer/devices/{device_id}/commands?limit=1"
    welcome = _eventually(lambda: requests.get(history, headers=auth, timeout=5).json()[0],
                          lambda c: c["status"] == "delivered")
    assert welcome["command_type"] == "set_wake_schedule" and welcome["status"] == "delivered", welcome
    assert welcome["command_params"]["site_id"] == info["site_id"]
    assert welcome["command_params"]["next_wake_at"] == mapped.json()["next_wake_at"]
