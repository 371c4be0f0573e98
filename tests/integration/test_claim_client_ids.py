"""The claim listener, attacked through client ids: a board of one claim never takes another claim's session.

Client ids on the claim listener are one namespace for every tenant's boards, so a board holding one
claim (a leaked one, another tenant's) could name a board of another claim: kick it off mid-enrolment
over and over, or resume its persistent session and be sent what was on its way to it (its private
key). Boards sharing one claim may still take a session over from each other (a board that restarts).
"""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from infra.local.broker_tls import TlsFiles
from tests.cert_support import logged_in
from tests.conftest import Stack
from tests.integration import claim_listener_support as listener
from tests.integration.claim_listener_support import CREATE
from tests.support import MqttPeer


@pytest.fixture(params=listener.LISTENERS)
def tls(request: pytest.FixtureRequest, stack: Stack) -> TlsFiles:
    return listener.under_test(request.param, stack)


def test_a_board_of_another_claim_cannot_take_a_live_boards_client_id(
        stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    _, cert_a, key_a = listener.listed_claim(stack, tls)
    _, cert_b, key_b = listener.listed_claim(stack, tls)
    victim = listener.board(stack, tls, tmp_path, peers, cert_a, key_a, "serial-0001")
    assert logged_in(victim)
    attacker = listener.board(stack, tls, tmp_path, peers, cert_b, key_b, "serial-0001")
    assert not logged_in(attacker)
    assert not victim.disconnected.wait(1)
    # The victim still asks and is answered on its own connection.
    cloud = listener.cloud(stack, peers)
    victim.publish(CREATE, {})
    nonce = cloud.expect()[0].split("/")[3]
    cloud.publish(f"$fleet/claim-replies/{nonce}/serial-0001/certificates/create/json/accepted", {"k": 1})
    assert victim.expect() == (f"{CREATE}/accepted", {"k": 1}, False)
    # A board of the same claim may still take the session over (the board restarted).
    again = listener.board(stack, tls, tmp_path, peers, cert_a, key_a, "serial-0001")
    assert logged_in(again)
    assert victim.disconnected.wait(5)


def test_a_board_of_another_claim_cannot_resume_a_persistent_session(
        stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    _, cert_a, key_a = listener.listed_claim(stack, tls)
    _, cert_b, key_b = listener.listed_claim(stack, tls)
    serial = f"serial-{uuid.uuid4().hex[:8]}"  # the session it leaves is its claim's, in the next run as well
    victim = listener.board(stack, tls, tmp_path, peers, cert_a, key_a, serial, clean=False)
    assert logged_in(victim)
    victim.subscribe(f"{CREATE}/accepted", qos=1)
    victim.client.disconnect()
    assert victim.disconnected.wait(5)
    attacker = listener.board(stack, tls, tmp_path, peers, cert_b, key_b, serial, clean=False)
    assert not logged_in(attacker)
    # A clean session of that id starts from nothing of the victim's: it is let in.
    fresh = listener.board(stack, tls, tmp_path, peers, cert_b, key_b, serial, clean=True)
    assert logged_in(fresh)
    assert listener.nothing(fresh, 0.5)
    # The clean session left nothing behind: the first claim's board may come back.
    fresh.client.disconnect()
    assert fresh.disconnected.wait(5)
    back = listener.board(stack, tls, tmp_path, peers, cert_a, key_a, serial, clean=False)
    assert logged_in(back)
