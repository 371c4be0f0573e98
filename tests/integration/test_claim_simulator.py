"""The simulated board that boots with only a claim certificate: it enrols, logs in with its own
certificate and answers the operator; on its next boot it reuses that certificate.

Real broker (claim and certificate listeners), the real bridge forwarding to the app in process.
"""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from infra.local.claim_enrolment import ClaimBoard, EnrolmentRefused, boot, enrol, stored
from tests.commands_support import command, send, wait_until
from tests.conftest import Stack
from tests.integration.aws_sdk_support import aws_bridge  # noqa: F401
from tests.integration.claims_support import GOOD, make_claim
from tests.support import Api

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("aws_bridge")]


def _flashed(stack: Stack, api: Api, folder: Path, parameters: dict[str, str]) -> ClaimBoard:
    """What the factory flashes: the claim certificate and key, the CA, the template's name."""
    claim = make_claim(api)
    stack.sync.sync_once()
    folder.mkdir()
    (folder / "claim.pem").write_text(claim["certificate_pem"])
    (folder / "claim.key").write_text(claim["private_key_pem"])
    tls = stack.broker.tls
    assert tls is not None
    return ClaimBoard(str(tls.ca_file), str(folder / "claim.pem"), str(folder / "claim.key"), "esp32", parameters)


def test_a_board_with_only_a_claim_enrols_answers_a_ping_and_reuses_its_certificate_on_the_next_boot(
        stack: Stack, api: Api, api_url: str, tmp_path: Path) -> None:
    tls = stack.broker.tls
    assert tls is not None and tls.claim_port is not None
    claim_port = tls.claim_port
    board = _flashed(stack, api, tmp_path / "flash", GOOD)
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


def test_a_board_whose_parameters_the_template_refuses_is_told_why_and_keeps_nothing(
        stack: Stack, api: Api, tmp_path: Path) -> None:
    tls = stack.broker.tls
    assert tls is not None and tls.claim_port is not None
    board = _flashed(stack, api, tmp_path / "flash", {**GOOD, "SerialNumber": "bad serial"})
    with pytest.raises(EnrolmentRefused, match=r"InvalidParameters.*SerialNumber"):
        enrol(board, stack.broker.host, tls.claim_port, tmp_path / "board")
    assert stored(tmp_path / "board") is None and not list((tmp_path / "board").iterdir())
    assert api.get("/customer/devices/esp32-aabbccddee01").status == 404
