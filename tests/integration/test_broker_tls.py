"""The broker's TLS listeners, attacked: only an ACTIVE certificate of the stack CA for an enabled device logs in.

Real Mosquitto, real DynamoDB engine, certificates made through the API; the credential
sync is driven by calling it (the running stack polls it every second).
"""
from __future__ import annotations

import contextlib
import queue
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from chalicelib.certificates import x509 as certs
from chalicelib.certificates.local_ca import LocalCertificateAuthority
from chalicelib.core.topics import device_root
from infra.local.broker_tls import TlsAccess, TlsFiles
from tests.cert_support import logged_in, self_signed, signed_by, stack_ca, tls_peer
from tests.conftest import Stack
from tests.support import Api, MqttPeer


def _issue(api: Api, device_id: str) -> dict[str, str]:
    made = api.post(f"/customer/devices/{device_id}/certificates", {})
    assert made.status == 201, made.body
    return dict(made.body)


def _mtls(stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer], cert_pem: str, key_pem: str,
          client_id: str = "") -> MqttPeer:
    peer = tls_peer(stack.broker.host, tls.mtls_port, tls.ca_file, tmp_path, cert_pem, key_pem, client_id=client_id)
    peers.append(peer)
    return peer


def test_an_active_certificate_logs_in_as_its_device_with_the_device_acl(
        api: Api, stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    api.create_device("tls-1")
    made = _issue(api, "tls-1")
    stack.sync.sync_once()
    observer = stack.observer()
    peers.append(observer)
    own = f"{device_root(api.tenant_id, 'tls-1')}/events"
    observer.subscribe(own)
    # It logs in under its thing's name as client id (a client id of its own is the only kind it may use)
    device = _mtls(stack, tls, tmp_path, peers, made["certificate_pem"], made["private_key_pem"],
                   client_id=f"{api.tenant_id}.tls-1")
    assert logged_in(device)
    device.publish(own, {"hello": "tls"})
    assert observer.expect()[1] == {"hello": "tls"}
    # Its ACL is its device's: a publish into another device's subtree is dropped
    observer.subscribe(f"{device_root(api.tenant_id, 'other')}/#")
    device.publish(f"{device_root(api.tenant_id, 'other')}/events", {"spoof": 1})
    with pytest.raises(queue.Empty):
        observer.expect(timeout=0.7)


def test_a_certificate_takes_no_client_id_but_its_own_so_no_one_elses_session(
        api: Api, other_api: Api, stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    api.create_device("ids-1")
    other_api.create_device("ids-1")
    made, theirs = _issue(api, "ids-1"), _issue(other_api, "ids-1")
    stack.sync.sync_once()
    key = made["certificate_pem"], made["private_key_pem"]
    # Given another tenant's device of the same id online
    victim = _mtls(stack, tls, tmp_path, peers, theirs["certificate_pem"], theirs["private_key_pem"],
                   client_id=f"{other_api.tenant_id}.ids-1")
    assert logged_in(victim)
    # When this certificate asks for their client ids, it is refused
    for taken in (f"{other_api.tenant_id}.ids-1", "ids-1", "svc-bridge", "fleet-bridge-1", "board-1",
                  f"{api.tenant_id}.ids-2"):
        assert not logged_in(_mtls(stack, tls, tmp_path, peers, *key, client_id=taken)), taken
    assert not victim.disconnected.is_set(), "a refused client id took the victim's session over"
    # And it logs in as its thing, or with no client id (the broker assigns a random one)
    assert logged_in(_mtls(stack, tls, tmp_path, peers, *key, client_id=f"{api.tenant_id}.ids-1"))
    assert logged_in(_mtls(stack, tls, tmp_path, peers, *key))


def test_certificates_the_registry_did_not_issue_never_log_in(
        api: Api, other_api: Api, stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    other_api.create_device("victim")
    victim = f"{other_api.tenant_id}.victim"
    _issue(other_api, "victim")  # the victim has a working certificate: its name is in the ACL
    stack.sync.sync_once()
    ca_key, ca_cert = stack_ca(tls)
    other_ca_key, other_ca_cert = certs.new_ca("another CA", datetime.now(timezone.utc), timedelta(days=30))
    now = datetime.now(timezone.utc)
    attacks = {
        "another CA's certificate": signed_by(other_ca_key, other_ca_cert, victim, now, 30),
        "a self-signed certificate naming the victim": self_signed(victim),
        "an expired certificate of the stack CA": signed_by(ca_key, ca_cert, victim, now - timedelta(days=10), 1),
        "a not-yet-valid certificate of the stack CA": signed_by(ca_key, ca_cert, victim, now + timedelta(days=2), 10),
        "the broker's own server certificate": (tls.cert_file.read_text(), tls.key_file.read_text()),
    }
    for what, (cert_pem, key_pem) in attacks.items():
        assert not logged_in(_mtls(stack, tls, tmp_path, peers, cert_pem, key_pem)), what
    # No certificate at all: the mTLS listener requires one
    bare = tls_peer(stack.broker.host, tls.mtls_port, tls.ca_file, tmp_path, username=victim, password="x")
    peers.append(bare)
    assert not logged_in(bare)


def test_a_stack_ca_certificate_for_a_name_without_an_active_certificate_may_touch_nothing(
        api: Api, stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    # Given certificates the CA signed outside the registry (a leaked CA key): a service name and a device name
    ca_key, ca_cert = stack_ca(tls)
    api.create_device("no-cert")
    observer = stack.observer()
    peers.append(observer)
    observer.subscribe("#")
    for cn in ("svc-cloud", f"{api.tenant_id}.no-cert"):
        cert_pem, key_pem = signed_by(ca_key, ca_cert, cn, datetime.now(timezone.utc), 1)
        peer = _mtls(stack, tls, tmp_path, peers, cert_pem, key_pem)
        if not logged_in(peer):
            continue
        # Then the listener's ACL names only holders of an ACTIVE certificate: nothing it publishes goes anywhere
        for topic in (f"{device_root(api.tenant_id, 'no-cert')}/events", "tenant/x/devices/y/commands",
                      "$aws/things/x/shadow/update"):
            peer.publish(topic, {"from": cn})
    # "#" also brings other tests' retained and background traffic on the shared broker: none may be the attacker's
    seen = []
    with contextlib.suppress(queue.Empty):
        while True:
            seen.append(observer.messages.get(timeout=1.0))
    assert [(topic, payload) for topic, payload, _ in seen if b'"from"' in payload] == []


def test_revoking_a_certificate_refuses_it_and_cuts_its_live_session(
        api: Api, stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer],
        record_property: Callable[[str, object], None]) -> None:
    api.create_device("tls-2")
    made = _issue(api, "tls-2")
    stack.sync.sync_once()
    device = _mtls(stack, tls, tmp_path, peers, made["certificate_pem"], made["private_key_pem"])
    assert logged_in(device)
    # When the operator revokes it (and the sync runs, as it does every second)
    started = time.monotonic()
    path = f"/customer/devices/tls-2/certificates/{made['certificate_id']}"
    assert api.patch(path, {"status": "REVOKED"}).status == 200
    stack.sync.sync_once()
    # Then its session is cut within 5 s of the revocation
    assert device.disconnected.wait(5.0 - (time.monotonic() - started))
    elapsed = time.monotonic() - started
    record_property("revoke_to_disconnect_s", round(elapsed, 3))
    print(f"revoke-to-disconnect: {elapsed * 1000:.0f} ms")
    # And a new connection with it is refused
    again = _mtls(stack, tls, tmp_path, peers, made["certificate_pem"], made["private_key_pem"])
    assert not logged_in(again)


def test_an_inactive_certificate_is_refused_until_it_is_active_again(
        api: Api, stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    api.create_device("tls-3")
    made = _issue(api, "tls-3")
    path = f"/customer/devices/tls-3/certificates/{made['certificate_id']}"
    api.patch(path, {"status": "INACTIVE"})
    stack.sync.sync_once()
    assert not logged_in(_mtls(stack, tls, tmp_path, peers, made["certificate_pem"], made["private_key_pem"]))
    api.patch(path, {"status": "ACTIVE"})
    stack.sync.sync_once()
    assert logged_in(_mtls(stack, tls, tmp_path, peers, made["certificate_pem"], made["private_key_pem"]))


def test_disabling_or_deleting_the_device_cuts_its_certificate_session(
        api: Api, stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    for device_id in ("tls-4", "tls-5"):
        api.create_device(device_id)
    made = {d: _issue(api, d) for d in ("tls-4", "tls-5")}
    stack.sync.sync_once()
    live = {d: _mtls(stack, tls, tmp_path, peers, m["certificate_pem"], m["private_key_pem"]) for d, m in made.items()}
    assert all(logged_in(p) for p in live.values())
    assert api.post("/customer/devices/tls-4/disable").status == 200
    assert api.delete("/customer/devices/tls-5").status == 200
    stack.sync.sync_once()
    for device_id, peer in live.items():
        assert peer.disconnected.wait(5), device_id
        m = made[device_id]
        assert not logged_in(_mtls(stack, tls, tmp_path, peers, m["certificate_pem"], m["private_key_pem"])), device_id
    # Re-enabled, the disabled device's certificate works again
    assert api.post("/customer/devices/tls-4/enable").status == 200
    stack.sync.sync_once()
    m = made["tls-4"]
    assert logged_in(_mtls(stack, tls, tmp_path, peers, m["certificate_pem"], m["private_key_pem"]))


def test_the_token_listener_is_tls_with_the_provision_token_as_password(
        api: Api, stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    device_id, token = api.create_device("tls-6")
    stack.sync.sync_once()
    name = f"{api.tenant_id}.{device_id}"
    good = tls_peer(stack.broker.host, tls.token_port, tls.ca_file, tmp_path, username=name, password=token)
    wrong = tls_peer(stack.broker.host, tls.token_port, tls.ca_file, tmp_path, username=name, password="tok_nope")
    peers += [good, wrong]
    assert logged_in(good)
    assert not logged_in(wrong)


def test_a_certificate_reads_nothing_of_another_device_not_even_its_aws_thing_topics(
        api: Api, stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    # Given two devices of one tenant, each with an ACTIVE certificate, both connected on the mTLS listener
    for device_id in ("tls-a", "tls-b"):
        api.create_device(device_id)
    made = {d: _issue(api, d) for d in ("tls-a", "tls-b")}
    stack.sync.sync_once()
    a, b = (_mtls(stack, tls, tmp_path, peers, made[d]["certificate_pem"], made[d]["private_key_pem"])
            for d in ("tls-a", "tls-b"))
    assert logged_in(a) and logged_in(b)
    b_topics = [f"{device_root(api.tenant_id, 'tls-b')}/events", f"$aws/things/{api.tenant_id}.tls-b/shadow/update"]
    # When A subscribes to B's subtrees (and to everything) and B publishes into them
    for topic_filter in (f"{device_root(api.tenant_id, 'tls-b')}/#", f"$aws/things/{api.tenant_id}.tls-b/#", "#",
                         "$aws/things/+/shadow/#"):
        a.subscribe(topic_filter)
    observer = stack.observer()
    peers.append(observer)
    for topic in b_topics:
        observer.subscribe(topic)
    for topic in b_topics:
        b.publish(topic, {"from": "b"})
    # Then the broker delivered B's messages (the observer sees both) but none to A
    assert sorted(observer.expect()[0] for _ in b_topics) == sorted(b_topics)
    with pytest.raises(queue.Empty):
        a.expect(timeout=0.7)


def test_a_crl_written_a_month_ago_still_lets_an_active_certificate_in(
        api: Api, stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    # Given an ACTIVE certificate, and a registry that then does not change for a month: the last CRL
    # the broker read is the one written then (the sync rewrites it only when the registry moves)
    api.create_device("tls-c")
    made = _issue(api, "tls-c")
    stack.sync.sync_once()
    month_ago = datetime.now(timezone.utc) - timedelta(days=31)
    then = TlsAccess(LocalCertificateAuthority(tls.ca_file.parent, clock=lambda: month_ago), tls,
                     stack.broker.tls_acl_path)
    try:
        then.write({f"{api.tenant_id}.tls-c"})
        assert stack.broker.reload(wait_s=5.0)
        # Then the certificate still logs in: an old CRL must not lock every device out
        assert logged_in(_mtls(stack, tls, tmp_path, peers, made["certificate_pem"], made["private_key_pem"]))
    finally:
        stack.sync.sync_once(force=True)
