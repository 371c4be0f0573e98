"""The broker's claim listener, attacked: boards sharing a claim certificate never read each other's answers.

Real Mosquitto with the claim plugin built by `make deps`; certificates signed by the stack CA.
The cloud's side is played by a service client, so this tests the broker alone: which board a
request names, which connection an answer reaches, and which client ids and certificates the
listener refuses. Every test runs on both listeners that take claims: the claim listener and the
certificate listener (the device port, 8883 on `make run`, where AWS's own samples connect).
"""
from __future__ import annotations

import queue
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography import x509

from chalicelib.certificates import x509 as certs
from chalicelib.certificates.local_ca import CA_KEY
from infra.local import claim_plugin
from infra.local.broker_tls import TlsFiles
from tests.cert_support import logged_in, signed_by, tls_peer
from tests.conftest import Stack
from tests.integration.claims_support import TEMPLATE, make_claim
from tests.support import Api, MqttPeer, mqtt_peer

CREATE = "$aws/certificates/create/json"


LISTENERS = ["claim listener", "certificate listener"]


def listener_under_test(listener: str, stack: Stack) -> TlsFiles:
    """The stack's TLS files, with `claim_port` the listener under test."""
    files = stack.broker.tls
    assert files is not None
    return files if listener == "claim listener" else replace(files, claim_port=files.mtls_port)


@pytest.fixture(params=LISTENERS)
def tls(request: pytest.FixtureRequest, stack: Stack) -> TlsFiles:
    return listener_under_test(request.param, stack)


def _claim(stack: Stack, tls: TlsFiles, template: str = "tmpl") -> tuple[str, str, str]:
    """(cn, certificate PEM, key PEM) of a claim certificate the claim listener's ACL lets in."""
    key = certs.load_private_key((tls.ca_file.parent / CA_KEY).read_bytes())
    ca = x509.load_pem_x509_certificate(tls.ca_file.read_bytes())
    cn = f"claim-{uuid.uuid4().hex}"
    cert_pem, key_pem = signed_by(key, ca, cn, datetime.now(timezone.utc), 1)
    acl = claim_plugin.acl_path(stack.broker.workdir)
    request_topics = ["certificates/create/json", "certificates/create-from-csr/json",
                      f"provisioning-templates/{template}/provision/json"]
    lines = [f"user {cn}", *(f"topic write $aws/{t}" for t in request_topics),
             *(f"topic read $aws/{t}/+" for t in request_topics), ""]
    for path in (acl, stack.broker.tls_acl_path):  # both listeners that take claims
        with open(path, "a") as f:
            f.write("\n".join(lines) + "\n")
    assert stack.broker.reload(wait_s=15)
    return cn, cert_pem, key_pem


def _board(stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer], cert: str, key: str,
           client_id: str) -> MqttPeer:
    assert tls.claim_port is not None
    peer = tls_peer(stack.broker.host, tls.claim_port, tls.ca_file, tmp_path, cert, key, client_id=client_id)
    peers.append(peer)
    return peer


def _service(stack: Stack, peers: list[MqttPeer]) -> MqttPeer:
    observer = stack.users["observer"]
    peer = mqtt_peer(stack.broker.host, stack.broker.service_port, observer.username, observer.password)
    peers.append(peer)
    return peer


def _nothing(peer: MqttPeer, timeout: float = 1.0) -> bool:
    try:
        peer.messages.get(timeout=timeout)
    except queue.Empty:
        return True
    return False


def test_a_request_names_its_connection_and_the_answer_reaches_that_board_alone(
        stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    cn, cert, key = _claim(stack, tls)
    cloud = _service(stack, peers)
    cloud.subscribe("$fleet/claims/#")
    board_a = _board(stack, tls, tmp_path, peers, cert, key, "board-a")
    board_b = _board(stack, tls, tmp_path, peers, cert, key, "board-b")
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
    assert _nothing(board_b)

    # Another nonce for the same client id (an older or forged connection) reaches nobody.
    cloud.publish(f"$fleet/claim-replies/{int(nonce) + 1000}/board-a/certificates/create/json/accepted", {"x": 1})
    cloud.publish(f"$fleet/claim-replies/{nonce}/board-b/certificates/create/json/accepted", {"x": 2})
    assert _nothing(board_a) and _nothing(board_b, 0.2)
    # Nothing retained either: a board subscribing later sees no earlier request or answer.
    late = _board(stack, tls, tmp_path, peers, cert, key, "board-late")
    assert logged_in(late)
    late.subscribe(f"{CREATE}/accepted")
    assert _nothing(late, 0.5)
    cloud.subscribe("$fleet/claims/#")
    assert _nothing(cloud, 0.5)


def test_a_reconnected_board_does_not_get_the_answer_meant_for_its_earlier_connection(
        stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    _, cert, key = _claim(stack, tls)
    cloud = _service(stack, peers)
    cloud.subscribe("$fleet/claims/#")
    first = _board(stack, tls, tmp_path, peers, cert, key, "board-x")
    assert logged_in(first)
    first.publish(CREATE, {})
    old_nonce = cloud.expect()[0].split("/")[3]
    first.client.reconnect_delay_set(min_delay=120, max_delay=240)  # it must not take the session back
    # The same client id (another board sharing the claim) takes the session over.
    second = _board(stack, tls, tmp_path, peers, cert, key, "board-x")
    assert logged_in(second)
    assert first.disconnected.wait(5)
    second.subscribe(f"{CREATE}/accepted")
    cloud.publish(f"$fleet/claim-replies/{old_nonce}/board-x/certificates/create/json/accepted", {"privateKey": "old"})
    assert _nothing(second)
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
    _, cert, key = _claim(stack, tls)
    board = _board(stack, tls, tmp_path, peers, cert, key, client_id)
    assert not logged_in(board)


def test_only_claim_certificates_of_the_stack_ca_log_in_on_the_claim_listener(
        stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    key = certs.load_private_key((tls.ca_file.parent / CA_KEY).read_bytes())
    ca = x509.load_pem_x509_certificate(tls.ca_file.read_bytes())
    device_cert, device_key = signed_by(key, ca, "t1.device-1", datetime.now(timezone.utc), 1)
    assert not logged_in(_board(stack, tls, tmp_path, peers, device_cert, device_key, "board-d"))
    assert tls.claim_port is not None
    bare = tls_peer(stack.broker.host, tls.claim_port, tls.ca_file, tmp_path, client_id="board-e")
    peers.append(bare)
    assert not logged_in(bare)
    # A claim certificate the ACL does not list (revoked, never issued) may log in but touch nothing.
    unknown_cert, unknown_key = signed_by(key, ca, f"claim-{uuid.uuid4().hex}", datetime.now(timezone.utc), 1)
    cloud = _service(stack, peers)
    cloud.subscribe("$fleet/claims/#")
    stranger = _board(stack, tls, tmp_path, peers, unknown_cert, unknown_key, "board-f")
    if logged_in(stranger):
        stranger.publish(CREATE, {})
        assert _nothing(cloud)


def test_a_claim_board_touches_only_its_template_and_never_the_internal_topics(
        stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    cn, cert, key = _claim(stack, tls, template="mine")
    cloud = _service(stack, peers)
    cloud.subscribe("$fleet/claims/#")
    cloud.subscribe("$aws/#")
    board = _board(stack, tls, tmp_path, peers, cert, key, "board-g")
    assert logged_in(board)
    board.subscribe("$fleet/claim-replies/#")
    board.publish("$aws/provisioning-templates/other/provision/json", {"certificateOwnershipToken": "t"})
    board.publish(f"$fleet/claims/{cn}/1/board-g/certificates/create/json", {})
    board.publish("$aws/things/t1.device-1/shadow/update", {"state": {}})
    board.publish("tenants/t1/devices/device-1/ack", {})
    assert _nothing(cloud)
    board.publish("$aws/provisioning-templates/mine/provision/json", {"certificateOwnershipToken": "t"})
    topic = cloud.expect()[0]
    assert topic.startswith(f"$fleet/claims/{cn}/")
    assert topic.endswith("/board-g/provisioning-templates/mine/provision/json")
    cloud.publish("$fleet/claim-replies/1/board-g/certificates/create/json/accepted", {"y": 1})
    assert _nothing(board)


def test_revoking_a_claim_closes_every_board_on_it_and_they_cannot_come_back(
        stack: Stack, api: Api, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    claim = make_claim(api, {**TEMPLATE, "template_name": "cut-me"})
    stack.sync.sync_once()
    boards = [_board(stack, tls, tmp_path, peers, claim["certificate_pem"], claim["private_key_pem"], f"cut-{i}")
              for i in range(2)]
    assert all(logged_in(board) for board in boards)
    for board in boards:
        board.client.reconnect_delay_set(min_delay=120, max_delay=240)  # a comeback is tried by hand below
    revoked = api.patch(f"/customer/provisioning-templates/cut-me/claim-certificates/{claim['certificate_id']}",
                        {"status": "REVOKED"})
    assert revoked.status == 200, revoked.body
    stack.sync.sync_once()
    assert all(board.disconnected.wait(10) for board in boards)
    again = _board(stack, tls, tmp_path, peers, claim["certificate_pem"], claim["private_key_pem"], "cut-0")
    assert not logged_in(again)
