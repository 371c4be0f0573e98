"""The broker's claim listener, attacked: boards sharing a claim certificate never read each other's answers.

Real Mosquitto with the claim plugin built by `make deps`; certificates signed by the stack CA.
The cloud's side is played by a service client, so this tests the broker alone: which board a
request names, which connection an answer reaches, and which client ids and certificates the
listener refuses. Every test runs on both listeners that take claims: the claim listener and the
certificate listener (the device port, 8883 on `make run`, where AWS's own samples connect).
"""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from infra.local.broker_tls import TlsFiles
from tests.cert_support import logged_in, tls_peer
from tests.conftest import Stack
from tests.integration import claim_listener_support as listener
from tests.integration.claim_listener_support import CREATE
from tests.integration.claims_support import TEMPLATE, make_claim
from tests.support import Api, MqttPeer


@pytest.fixture(params=listener.LISTENERS)
def tls(request: pytest.FixtureRequest, stack: Stack) -> TlsFiles:
    return listener.under_test(request.param, stack)


def test_a_request_names_its_connection_and_the_answer_reaches_that_board_alone(
        stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    cn, cert, key = listener.listed_claim(stack, tls)
    cloud = listener.cloud(stack, peers)
    board_a = listener.board(stack, tls, tmp_path, peers, cert, key, "board-a")
    board_b = listener.board(stack, tls, tmp_path, peers, cert, key, "board-b")
    assert logged_in(board_a) and logged_in(board_b)
    for board in (board_a, board_b):
        board.subscribe(f"{CREATE}/accepted")
        board.subscribe(f"{CREATE}/rejected")

    board_a.publish(CREATE, {}, retain=True)
    topic, payload, retained = cloud.expect()
    prefix, _, rest = topic.partition(f"$fleet/claims/{cn}/")
    assert prefix == "" and rest.endswith("/board-a/certificates/create/json"), topic
    assert payload == {} and retained is False
    nonce = rest.split("/")[0]
    assert nonce.isdigit()

    cloud.publish(f"$fleet/claim-replies/{nonce}/board-a/certificates/create/json/accepted", {"privateKey": "k-a"})
    assert board_a.expect() == (f"{CREATE}/accepted", {"privateKey": "k-a"}, False)
    assert listener.nothing(board_b)

    # Another nonce for the same client id (an older or forged connection) reaches nobody.
    cloud.publish(f"$fleet/claim-replies/{int(nonce) + 1000}/board-a/certificates/create/json/accepted", {"x": 1})
    cloud.publish(f"$fleet/claim-replies/{nonce}/board-b/certificates/create/json/accepted", {"x": 2})
    assert listener.nothing(board_a) and listener.nothing(board_b, 0.2)
    # Nothing retained either: a board subscribing later sees no earlier request or answer.
    late = listener.board(stack, tls, tmp_path, peers, cert, key, "board-late")
    assert logged_in(late)
    late.subscribe(f"{CREATE}/accepted")
    assert listener.nothing(late, 0.5)
    cloud.subscribe("$fleet/claims/#")
    assert listener.nothing(cloud, 0.5)


def test_a_reconnected_board_does_not_get_the_answer_meant_for_its_earlier_connection(
        stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    _, cert, key = listener.listed_claim(stack, tls)
    cloud = listener.cloud(stack, peers)
    first = listener.board(stack, tls, tmp_path, peers, cert, key, "board-x")
    assert logged_in(first)
    first.publish(CREATE, {})
    old_nonce = cloud.expect()[0].split("/")[3]
    # The same client id (another board sharing the claim) takes the session over.
    second = listener.board(stack, tls, tmp_path, peers, cert, key, "board-x")
    assert logged_in(second)
    assert first.disconnected.wait(5)
    second.subscribe(f"{CREATE}/accepted")
    cloud.publish(f"$fleet/claim-replies/{old_nonce}/board-x/certificates/create/json/accepted", {"privateKey": "old"})
    assert listener.nothing(second)
    second.publish(CREATE, {})
    new_nonce = cloud.expect()[0].split("/")[3]
    assert new_nonce != old_nonce
    cloud.publish(f"$fleet/claim-replies/{new_nonce}/board-x/certificates/create/json/accepted", {"privateKey": "new"})
    assert second.expect()[1] == {"privateKey": "new"}


@pytest.mark.parametrize("client_id", ["t1.device-1", "svc-bridge", "svc-sync", "fleet-mqtt-bridge", "auto-1234",
                                       "cert-0123456789abcdef0123456789abcdef", "claim-0123abcd",
                                       "a/b", "a+b", "x" * 129])
def test_a_claim_board_cannot_take_a_device_or_service_client_id(
        stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer], client_id: str) -> None:
    _, cert, key = listener.listed_claim(stack, tls)
    board = listener.board(stack, tls, tmp_path, peers, cert, key, client_id)
    assert not logged_in(board)


def test_only_claim_certificates_of_the_stack_ca_log_in_on_the_claim_listener(
        stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    device_cert, device_key = listener.signed(tls, "t1.device-1")
    assert not logged_in(listener.board(stack, tls, tmp_path, peers, device_cert, device_key, "board-d"))
    assert tls.claim_port is not None
    bare = tls_peer(stack.broker.host, tls.claim_port, tls.ca_file, tmp_path, client_id="board-e")
    peers.append(bare)
    assert not logged_in(bare)
    # A claim certificate the ACL does not list (revoked, never issued) may log in but touch nothing.
    unknown_cert, unknown_key = listener.signed(tls, f"claim-{uuid.uuid4().hex}")
    cloud = listener.cloud(stack, peers)
    stranger = listener.board(stack, tls, tmp_path, peers, unknown_cert, unknown_key, "board-f")
    if logged_in(stranger):
        stranger.publish(CREATE, {})
        assert listener.nothing(cloud)


def test_a_claim_board_touches_only_its_template_and_never_the_internal_topics(
        stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    cn, cert, key = listener.listed_claim(stack, tls, template="mine")
    cloud = listener.cloud(stack, peers)
    cloud.subscribe("$aws/#")
    board = listener.board(stack, tls, tmp_path, peers, cert, key, "board-g")
    assert logged_in(board)
    board.subscribe("$fleet/claim-replies/#")
    board.publish("$aws/provisioning-templates/other/provision/json", {"certificateOwnershipToken": "t"})
    board.publish(f"$fleet/claims/{cn}/1/board-g/certificates/create/json", {})
    board.publish("$aws/things/t1.device-1/shadow/update", {"state": {}})
    board.publish("tenants/t1/devices/device-1/ack", {})
    assert listener.nothing(cloud)
    board.publish("$aws/provisioning-templates/mine/provision/json", {"certificateOwnershipToken": "t"})
    topic = cloud.expect()[0]
    assert topic.startswith(f"$fleet/claims/{cn}/")
    assert topic.endswith("/board-g/provisioning-templates/mine/provision/json")
    cloud.publish("$fleet/claim-replies/1/board-g/certificates/create/json/accepted", {"y": 1})
    assert listener.nothing(board)


def test_revoking_a_claim_closes_every_board_on_it_and_they_cannot_come_back(
        stack: Stack, api: Api, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    claim = make_claim(api, {**TEMPLATE, "template_name": "cut-me"})
    stack.sync.sync_once()
    cert, key = claim["certificate_pem"], claim["private_key_pem"]
    boards = [listener.board(stack, tls, tmp_path, peers, cert, key, f"cut-{i}") for i in range(2)]
    assert all(logged_in(board) for board in boards)
    revoked = api.patch(f"/customer/provisioning-templates/cut-me/claim-certificates/{claim['certificate_id']}",
                        {"status": "REVOKED"})
    assert revoked.status == 200, revoked.body
    stack.sync.sync_once()
    assert all(board.disconnected.wait(10) for board in boards)
    again = listener.board(stack, tls, tmp_path, peers, cert, key, "cut-0")
    assert not logged_in(again)
