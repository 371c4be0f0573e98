"""Provisioning by claim on the real broker: the enrolled board logs in with its certificate; racing boards."""
from __future__ import annotations

import json
import queue
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from chalice.test import Client

from tests.cert_support import logged_in, tls_peer
from tests.conftest import Stack
from tests.integration.claims_support import GOOD, Board, fleet_on, make_claim, observer
from tests.support import Api, Clock, MqttPeer

__all__ = ["observer"]  # the fixture, used by name


def test_the_enrolled_board_logs_in_with_its_new_certificate_and_gets_a_command(
        api: Api, chalice_client: Client, observer: MqttPeer, stack: Stack, tmp_path: Path) -> None:
    claim = make_claim(api)
    board = Board(chalice_client, observer, claim["certificate_id"])
    made = board.create()
    tls = stack.broker.tls
    assert tls is not None
    # Pending activation: the broker refuses the new certificate
    stack.sync.sync_once()
    pending = tls_peer(stack.broker.host, tls.mtls_port, tls.ca_file, tmp_path, made["certificatePem"],
                       made["privateKey"])
    assert not logged_in(pending)
    pending.close()
    # Provisioned: it logs in, and the operator's command reaches it on its device's topic
    assert board.provision(made["certificateOwnershipToken"])[0] == "accepted"
    stack.sync.sync_once()
    device = tls_peer(stack.broker.host, tls.mtls_port, tls.ca_file, tmp_path, made["certificatePem"],
                      made["privateKey"])
    try:
        assert logged_in(device)
        device.subscribe(f"tenant/{api.tenant_id}/device/esp32-aabbccddee01/commands")
        sent = api.post("/customer/devices/esp32-aabbccddee01/commands", {"command_type": "ping",
                                                                        "command_params": {}})
        assert sent.status == 201, sent.body
        topic, payload, _ = device.expect(timeout=10)
        assert topic.endswith("/commands") and payload["command_id"] == sent.body["command_id"]
        # And it reads nothing of another device (its ACL is its own device's topics)
        device.subscribe(f"tenant/{api.tenant_id}/device/other/commands")
        api.create_device("other")
        assert api.post("/customer/devices/other/commands", {"command_type": "ping",
                                                             "command_params": {}}).status == 201
        with pytest.raises(queue.Empty):
            device.expect(timeout=1.5)
    finally:
        device.close()


def test_racing_boards_never_make_a_second_device_and_a_raced_token_provisions_once(
        api: Api, chalice_client: Client, observer: MqttPeer) -> None:
    claim = make_claim(api)
    board = Board(chalice_client, observer, claim["certificate_id"])
    fleet = fleet_on(Clock())
    topic = (f"$fleet/claims/claim-{claim['certificate_id']}/{board.nonce}/{board.client_id}/"
             "provisioning-templates/esp32/provision/json")
    # Two boards with the same serial and MAC, each with its own certificate, provision at once
    tokens = [board.create()["certificateOwnershipToken"] for _ in range(2)]
    # ... and one token is replayed with other parameters at the same moment
    raced = board.create()["certificateOwnershipToken"]
    requests = [{"certificateOwnershipToken": t, "parameters": GOOD} for t in tokens] + [
        {"certificateOwnershipToken": raced, "parameters": {**GOOD, "MacAddress": f"AA:BB:CC:DD:EE:1{n}"}}
        for n in range(4)]
    with ThreadPoolExecutor(len(requests)) as pool:
        outcomes = list(pool.map(lambda body: fleet.handle(topic, json.dumps(body).encode()), requests))
    # One of the same-serial pair made the device, the other was refused as a re-enrolment
    assert sorted(o["accepted"] for o in outcomes[:2]) == [False, True]
    assert [o.get("errorCode") for o in outcomes[:2] if not o["accepted"]] == ["ResourceConflict"]
    # The raced token made exactly one device
    assert sum(o["accepted"] for o in outcomes[2:]) == 1
    devices = api.get("/customer/devices").body["devices"]
    assert len(devices) == 2
    assert sum(len(api.get(f"/customer/devices/{d['device_id']}/certificates").body["certificates"])
               for d in devices) == 2
