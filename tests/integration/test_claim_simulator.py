"""The simulated board that boots with only a claim certificate: it enrols, logs in with its own
certificate and answers the operator; on its next boot it reuses that certificate.

Real broker (claim and certificate listeners), the real bridge forwarding to the app in process.
"""
from __future__ import annotations

import base64
import stat
import time
from pathlib import Path

import pytest
from chalice.test import Client

from infra.local.claim_enrolment import EnrolmentRefused, boot, enrol, stored
from tests.cert_support import logged_in, tls_peer
from tests.commands_support import command, send, wait_until
from tests.conftest import Stack
from tests.integration.aws_sdk_support import aws_bridge  # noqa: F401
from tests.integration.claims_support import GOOD, flashed, make_claim
from tests.support import Api

pytestmark = pytest.mark.slow


@pytest.mark.usefixtures("aws_bridge")
def test_a_board_with_only_a_claim_enrols_answers_a_ping_and_reuses_its_certificate_on_the_next_boot(
        stack: Stack, api: Api, api_url: str, tmp_path: Path) -> None:
    tls = stack.broker.tls
    assert tls is not None and tls.claim_port is not None
    claim_port = tls.claim_port
    board = flashed(stack, api, tmp_path / "flash", GOOD)
    folder = tmp_path / "board"

    def start(fresh_expected: bool) -> str:
        device, enrolled, fresh = boot(board, folder, stack.broker.host, claim_port, tls.mtls_port, api_url,
                                       on_enrolled=stack.sync.sync_once, heartbeat_s=3600)
        try:
            assert fresh is fresh_expected
            assert enrolled.thing_name == f"{api.tenant_id}.esp32-aabbccddee01"
            assert device.connected.wait(10), "the enrolled board did not log in with its own certificate"
            # When the operator pings it, it answers pong over MQTT (through the bridge) with its certificate
            created = send(api, device.device_id, "ping")
            assert wait_until(lambda: command(api, device.device_id, created["command_id"])["status"]
                              == "delivered", 20)
            assert command(api, device.device_id, created["command_id"])["ack_details"]["details"] == {
                "message": "pong"}
        finally:
            device.stop()
        return enrolled.certificate_id

    # Given a board that has only its claim: it enrols on first boot
    first = start(fresh_expected=True)
    # Then its new key and facts are owner-only files, and the device the template made is there
    for name in ("private.key", "thing.json"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
    assert api.get("/customer/devices/esp32-aabbccddee01").body["attributes"] == {"serial": "AB12CD34"}
    # When it boots again, it uses the certificate it stored: no second enrolment
    assert start(fresh_expected=False) == first
    certificates = api.get("/customer/devices/esp32-aabbccddee01/certificates").body["certificates"]
    assert [c["certificate_id"] for c in certificates] == [first]


@pytest.mark.usefixtures("aws_bridge")
def test_a_board_whose_parameters_the_template_refuses_is_told_why_and_keeps_nothing(
        stack: Stack, api: Api, tmp_path: Path) -> None:
    tls = stack.broker.tls
    assert tls is not None and tls.claim_port is not None
    board = flashed(stack, api, tmp_path / "flash", {**GOOD, "SerialNumber": "bad serial"})
    with pytest.raises(EnrolmentRefused, match=r"InvalidParameters.*SerialNumber"):
        enrol(board, stack.broker.host, tls.claim_port, tmp_path / "board")
    assert stored(tmp_path / "board") is None and not list((tmp_path / "board").iterdir())
    assert api.get("/customer/devices/esp32-aabbccddee01").status == 404



def test_a_broker_reload_between_a_request_and_its_answer_loses_neither(
        stack: Stack, api: Api, chalice_client: Client, tmp_path: Path) -> None:
    # Given a board on the claim listener whose request is on its way (here held by a peer standing
    # in for the bridge, so that the reload surely lands before the answer)
    tls = stack.broker.tls
    assert tls is not None and tls.claim_port is not None
    claim = make_claim(api)
    stack.sync.sync_once()
    bridge = stack.observer()
    bridge.subscribe("$fleet/claims/#")
    board = tls_peer(stack.broker.host, tls.claim_port, tls.ca_file, tmp_path, claim["certificate_pem"],
                     claim["private_key_pem"], client_id="board-reload")
    try:
        assert logged_in(board)
        board.subscribe("$aws/certificates/create/json/+")
        board.publish("$aws/certificates/create/json", {})
        stamped, _, _ = bridge.expect(timeout=10)
        # When the broker reloads its configuration before the answer (the credential sync reloads it on
        # every registry change: each enrolment of any board does)
        assert stack.broker.reload(wait_s=10)
        time.sleep(0.5)  # the reload runs after its log line
        empty = base64.b64encode(b"{}").decode()
        chalice_client.lambda_.invoke("device_message", {"topic": stamped, "payload_b64": empty})
        # Then the answer still reaches the board that asked
        topic, answer, _ = board.expect(timeout=10)
        assert topic == "$aws/certificates/create/json/accepted", (topic, answer)
        assert answer["certificateOwnershipToken"]
    finally:
        board.close()
        bridge.close()
