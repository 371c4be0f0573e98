"""`make run` end to end: the stack comes up, serves the demo tenant, and stops cleanly."""
from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.stack_support import ROOT, RunningStack, stack_process, wait_for
from tests.support import MqttPeer, mqtt_peer


@pytest.fixture(scope="module")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with stack_process(tmp_path_factory.mktemp("devstack")) as stack:
        yield stack


def test_stack_writes_state_and_serves_the_demo_tenant(running_stack: RunningStack) -> None:
    info = running_stack.info
    assert set(info) >= {"api_url", "mqtt", "tenant_id", "operator_token", "devices"}
    assert len(info["devices"]) == 3
    auth = {"Authorization": f"Bearer {info['operator_token']}"}
    assert requests.get(f"{info['api_url']}/health", timeout=15).json()["status"] == "ok"
    listed = requests.get(f"{info['api_url']}/customer/devices", headers=auth, timeout=15).json()
    # The simulated devices, and the board that enrolled itself by claim
    assert sorted(d["device_id"] for d in listed["devices"]) == sorted(
        [d["device_id"] for d in info["devices"]] + [info["claim_board"]["device_id"]])


def test_the_demo_board_enrolled_by_claim_and_answers_the_operator_with_its_own_certificate(
        running_stack: RunningStack) -> None:
    info = running_stack.info
    api, auth = info["api_url"], {"Authorization": f"Bearer {info['operator_token']}"}
    board = info["claim_board"]
    # It booted with only the claim (and the template's name) and enrolled as the template says
    assert board["enrolled_on_this_start"] is True and board["device_id"] == "esp32-240ac4000001"
    assert board["thing_name"] == f"demo.{board['device_id']}"
    for key in (board["key_file"], board["claim_key_file"]):
        assert (os.stat(key).st_mode & 0o777) == 0o600, key
    device = requests.get(f"{api}/customer/devices/{board['device_id']}", headers=auth, timeout=15).json()
    assert device["attributes"] == {"serial": "DEMO0001"}
    # And a ping from the operator is answered by the board, logged in with its own certificate
    sent = requests.post(f"{api}/customer/devices/{board['device_id']}/commands", headers=auth, timeout=15,
                         json={"command_type": "ping", "command_params": {}}).json()
    url = f"{api}/customer/devices/{board['device_id']}/commands/{sent['command_id']}"
    assert wait_for(lambda: requests.get(url, headers=auth, timeout=15).json()["status"] == "delivered", 30)


def test_curl_flow_device_connects_and_is_confined(running_stack: RunningStack) -> None:
    info = running_stack.info
    api, auth = info["api_url"], {"Authorization": f"Bearer {info['operator_token']}"}
    created = requests.post(f"{api}/customer/devices", json={"device_id": "walkthrough"}, headers=auth, timeout=15)
    assert created.status_code == 201
    token = created.json()["provision_token"]
    deadline = time.monotonic() + 30  # generous: this runs beside the rest of the suite
    peer = None
    while peer is None:  # credentials reach the broker within a few seconds
        try:
            peer = mqtt_peer(info["mqtt"]["host"], info["mqtt"]["port"], "demo.walkthrough", token)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    own = peer.client.publish("tenant/demo/device/walkthrough/status", b"{}", qos=1)
    own.wait_for_publish(5)
    assert own.is_published()
    # Another device's subtree is closed to it: nothing published there reaches this device,
    # while a command on its own subtree does (the broker grants the SUBACK but filters reads).
    peer.subscribe("tenant/demo/device/sim-1/commands")
    peer.subscribe("tenant/demo/device/walkthrough/commands")
    for device_id in ("sim-1", "walkthrough"):
        sent = requests.post(f"{api}/customer/devices/{device_id}/commands", headers=auth, timeout=15,
                             json={"command_type": "ping", "command_params": {}})
        assert sent.status_code == 201 and sent.json()["mqtt_published"] is True
    topic, _, _ = peer.expect(timeout=10)
    assert topic == "tenant/demo/device/walkthrough/commands"
    # Delivery is at least once: the device's first status message may redeliver its queued
    # command, so more copies of its own command may follow; sim-1's never does.
    later = []
    while True:
        try:
            later.append(peer.expect(timeout=1.0)[0])
        except queue.Empty:
            break
    assert set(later) <= {"tenant/demo/device/walkthrough/commands"}
    peer.close()
    bad = requests.post(f"{api}/customer/devices", json={"device_id": 7}, headers=auth, timeout=15)
    assert bad.status_code == 400 and bad.json()["field"] == "device_id"
    other = requests.get(f"{api}/customer/devices/walkthrough", timeout=15,
                         headers={"Authorization": "Bearer " + _token_for(running_stack, "intruder")})
    assert other.status_code == 404


def test_demo_devices_answer_commands_over_mqtt_and_over_http(running_stack: RunningStack) -> None:
    # Given the demo's sim-1 (ACKs over MQTT, through the bridge) and sim-2 (ACKs over HTTPS)
    info = running_stack.info
    api, auth = info["api_url"], {"Authorization": f"Bearer {info['operator_token']}"}
    sent = {}
    for device_id in ("sim-1", "sim-2"):
        # When the operator pings each
        resp = requests.post(f"{api}/customer/devices/{device_id}/commands", headers=auth, timeout=15,
                             json={"command_type": "ping", "command_params": {}})
        assert resp.status_code == 201 and resp.json()["mqtt_published"] is True
        sent[device_id] = resp.json()["command_id"]

    # Then both commands become delivered with the device's pong
    def delivered(device_id: str) -> bool:
        got = requests.get(f"{api}/customer/devices/{device_id}/commands/{sent[device_id]}", headers=auth, timeout=15)
        return got.json()["status"] == "delivered"

    deadline = time.monotonic() + 20
    while not all(delivered(d) for d in sent) and time.monotonic() < deadline:
        time.sleep(0.2)
    for device_id, command_id in sent.items():
        body = requests.get(f"{api}/customer/devices/{device_id}/commands/{command_id}", headers=auth,
                            timeout=15).json()
        assert body["status"] == "delivered", body
        assert body["ack_details"] == {"status": "ok", "details": {"message": "pong"}}


def test_demo_welcomes_sent_before_the_simulators_connect_end_delivered(running_stack: RunningStack) -> None:
    # Given the demo maps sim-1 and sim-2 to its site before their simulators connect
    info = running_stack.info
    api, auth = info["api_url"], {"Authorization": f"Bearer {info['operator_token']}"}

    def welcomes(device_id: str) -> list[dict[str, Any]]:
        listed = requests.get(f"{api}/customer/devices/{device_id}/commands", headers=auth, timeout=15).json()
        return [c for c in listed if c["command_type"] == "set_wake_schedule"]

    # Then each welcome reaches its device when it asks on connect, and is ACKed
    for device_id in ("sim-1", "sim-2"):
        def acked(d: str = device_id) -> bool:
            return bool(welcomes(d)) and all(c["status"] == "delivered" for c in welcomes(d))

        assert wait_for(acked, 30, 0.3), welcomes(device_id)


def test_a_command_sent_while_the_device_is_offline_reaches_it_after_its_first_message(
        running_stack: RunningStack) -> None:
    # Given a device that is offline when the operator sends it a command
    info = running_stack.info
    api, auth = info["api_url"], {"Authorization": f"Bearer {info['operator_token']}"}
    created = requests.post(f"{api}/customer/devices", json={"device_id": "returning"}, headers=auth, timeout=15)
    assert created.status_code == 201
    token = created.json()["provision_token"]
    sent = requests.post(f"{api}/customer/devices/returning/commands", headers=auth, timeout=15,
                         json={"command_type": "ping", "command_params": {}}).json()
    assert sent["mqtt_published"] is True  # the broker took it; nobody was subscribed
    # When the device connects with a clean session, subscribes, and sends its first message (a heartbeat)
    peer = _connect_when_synced(info, "returning", token)
    try:
        peer.subscribe("tenant/demo/device/returning/commands")
        started = time.monotonic()
        peer.publish("tenant/demo/device/returning/status", {"state": "online"})
        # Then the queued command reaches it over MQTT within 15 s of that message
        topic, body, _ = peer.expect(timeout=15)
        assert topic == "tenant/demo/device/returning/commands" and body["command_id"] == sent["command_id"]
        assert time.monotonic() - started < 15
    finally:
        peer.close()


def _connect_when_synced(info: dict[str, Any], device_id: str, token: str) -> MqttPeer:
    deadline = time.monotonic() + 30  # credentials reach the broker within a few seconds
    while True:
        try:
            return mqtt_peer(info["mqtt"]["host"], info["mqtt"]["port"], f"demo.{device_id}", token)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _token_for(running_stack: RunningStack, tenant: str) -> str:
    workdir = running_stack.workdir
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEET_")}
    out = subprocess.run([sys.executable, "-m", "infra.local.token", tenant], cwd=ROOT, check=True,
                         capture_output=True, text=True, env={**env, "STACK_DIR": str(workdir)})
    return out.stdout.strip()


def test_sigterm_stops_every_process(running_stack: RunningStack) -> None:
    proc, info, workdir = running_stack.proc, running_stack.info, running_stack.workdir
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert not (workdir / "stack.json").exists()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{info['api_url']}/health", timeout=2)
    with pytest.raises(OSError):
        socket.create_connection((info["mqtt"]["host"], info["mqtt"]["port"]), timeout=2).close()
