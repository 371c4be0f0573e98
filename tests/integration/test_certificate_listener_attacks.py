"""The certificate listener's client ids, attacked by a holder of a certificate or a claim of their own.

The plugin's device role allows a certificate its own client ids only: its name, its thing's, or one the
broker assigned; an assigned id stays with the certificate that holds it, live or left as a session (an
MQTT 5 client is told its own, so it learns the prefix). An MQTT 5 claim board's session (clean start
with an expiry) is another claim's to leave alone. Certificates with names no device has (odd bytes,
several CNs) never log in; the names file's parser takes no line out of a longer one; a session cut
comes from the credential sync alone.
"""
from __future__ import annotations

import time
import uuid
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from chalicelib.certificates import x509 as certs
from chalicelib.certificates.local_ca import CA_KEY
from infra.local import claim_plugin
from infra.local.broker_tls import TlsFiles
from tests.cert_support import logged_in, signed_by, tls_peer
from tests.conftest import Stack
from tests.integration.claim_listener_support import listed_claim as _claim
from tests.support import Api, MqttPeer, mqtt_peer


def _service(stack: Stack, peers: list[MqttPeer]) -> MqttPeer:
    observer = stack.users["observer"]
    peer = mqtt_peer(stack.broker.host, stack.broker.service_port, observer.username, observer.password)
    peers.append(peer)
    return peer


def _issue(api: Api, device_id: str) -> tuple[str, str]:
    api.create_device(device_id)
    made = api.post(f"/customer/devices/{device_id}/certificates", {})
    assert made.status == 201, made.body
    return made.body["certificate_pem"], made.body["private_key_pem"]


def _ca(tls: TlsFiles) -> tuple[certs.PrivateKey, x509.Certificate]:
    return certs.load_private_key((tls.ca_file.parent / CA_KEY).read_bytes()), \
        x509.load_pem_x509_certificate(tls.ca_file.read_bytes())


def _named(tls: TlsFiles, name: x509.Name) -> tuple[str, str]:
    """A certificate of the stack CA with this exact subject (a leaked CA key could make any)."""
    ca_key, ca_cert = _ca(tls)
    key = certs.new_private_key()
    now = datetime.now(timezone.utc) - timedelta(minutes=5)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + timedelta(days=1)).sign(ca_key, hashes.SHA256()))
    return certs.pem(cert), certs.private_key_pem(key)


def _mtls(stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer], cert: tuple[str, str],
          client_id: str = "", clean: bool = True) -> MqttPeer:
    peer = tls_peer(stack.broker.host, tls.mtls_port, tls.ca_file, tmp_path, *cert, client_id=client_id, clean=clean)
    peer.client.reconnect_delay_set(min_delay=120, max_delay=240)  # no silent comeback
    peers.append(peer)
    return peer


def _v5(stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer], cert: tuple[str, str],
        client_id: str = "", clean_start: bool = True, expiry: int = 0) -> MqttPeer:
    """An MQTT 5 client of the certificate listener (its CONNACK recorded: the id the broker assigned)."""
    peer = tls_peer(stack.broker.host, tls.mtls_port, tls.ca_file, tmp_path, *cert, client_id=client_id,
                    protocol=mqtt.MQTTv5, clean=clean_start, session_expiry=expiry)
    peer.client.reconnect_delay_set(min_delay=120, max_delay=240)
    peers.append(peer)
    return peer


def _assigned(peer: MqttPeer) -> str:
    return str(peer.connack[0][1].AssignedClientIdentifier)


def _session_present(peer: MqttPeer) -> bool:
    return bool(peer.connack[-1][0].session_present)


def _long_name() -> x509.Name:
    with warnings.catch_warnings():  # longer than X.520 allows: the plugin must not trust the CA to refuse it
        warnings.simplefilter("ignore")
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x" * 129, _validate=False)])


def test_names_with_odd_bytes_or_several_common_names_never_log_in(
        api: Api, stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    victim = f"{api.tenant_id}.odd-victim"
    cn = NameOID.COMMON_NAME
    odd = {
        "a space": x509.Name([x509.NameAttribute(cn, f"{victim} x")]),
        "a slash": x509.Name([x509.NameAttribute(cn, f"{api.tenant_id}/odd")]),
        "a plus": x509.Name([x509.NameAttribute(cn, "+")]),
        "a hash": x509.Name([x509.NameAttribute(cn, "#")]),
        "a dollar": x509.Name([x509.NameAttribute(cn, "$SYS")]),
        "non-ASCII": x509.Name([x509.NameAttribute(cn, "d\u00e9vice")]),
        "too long": _long_name(),
        "a NUL that would cut it to the victim's name": x509.Name([x509.NameAttribute(cn, f"{victim}\x00x")]),
        "no CN": x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "org")]),
        "two CNs": x509.Name([x509.NameAttribute(cn, victim), x509.NameAttribute(cn, "svc-sync")]),
    }
    for what, name in odd.items():
        cert = _named(tls, name)
        for client_id in ("", victim, "x"):
            assert not logged_in(_mtls(stack, tls, tmp_path, peers, cert, client_id=client_id)), (what, client_id)


def test_a_cert_name_missing_from_the_names_file_takes_no_thing_id_and_no_line_is_cut_out_of_a_longer_one(
        api: Api, stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    ca_key, ca_cert = _ca(tls)
    victim = f"{api.tenant_id}.names-victim"
    names = stack.broker.tls_acl_path.with_name(claim_plugin.NAMES_FILE)
    late, smuggled = f"cert-{uuid.uuid4().hex}", f"cert-{uuid.uuid4().hex}"
    late_cert = signed_by(ca_key, ca_cert, late, datetime.now(timezone.utc), 1)
    smuggled_cert = signed_by(ca_key, ca_cert, smuggled, datetime.now(timezone.utc), 1)
    # Not in the names file: a cert-... name is its own client id, never a thing's
    assert not logged_in(_mtls(stack, tls, tmp_path, peers, late_cert, client_id=victim))
    assert logged_in(_mtls(stack, tls, tmp_path, peers, late_cert, client_id=late))
    # A line longer than the parser's buffer whose tail reads as an entry; and the late name's own line
    registry_names = names.read_text()
    padding = "cert-" + "a" * 510  # the whole of the parser's buffer: the next read starts at the smuggled name
    with open(names, "a") as f:
        f.write(f"{padding}{smuggled} {victim}\n{late} {victim}\n")
    time.sleep(1.2)  # past the once-a-second reread on a miss
    assert logged_in(_mtls(stack, tls, tmp_path, peers, late_cert, client_id=victim))  # read on the miss
    assert not logged_in(_mtls(stack, tls, tmp_path, peers, smuggled_cert, client_id=victim))
    names.write_text(registry_names)  # the registry's names again


def test_an_assigned_client_id_stays_with_its_holder_live_or_as_a_session(
        api: Api, other_api: Api, stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    mine, theirs = _issue(api, "assigned-1"), _issue(other_api, "assigned-1")
    stack.sync.sync_once()
    # Given another tenant's device on an id the broker assigned (told in its CONNACK, as MQTT 5 does)
    victim = _v5(stack, tls, tmp_path, peers, theirs, expiry=3600)
    assert logged_in(victim)
    taken = _assigned(victim)
    assert taken.startswith(tls.assigned_prefix)
    # And the attacker learnt the prefix the same way
    probe = _v5(stack, tls, tmp_path, peers, mine)
    assert logged_in(probe) and _assigned(probe).startswith(tls.assigned_prefix)
    # When a certificate or a claim board of someone else asks for that id, it is refused; the victim stays
    assert not logged_in(_mtls(stack, tls, tmp_path, peers, mine, client_id=taken))
    for odd in ("/x", " x", "+", "\u00e9", "x" * 200):  # nor an id no broker assigns, under its prefix
        assert not logged_in(_mtls(stack, tls, tmp_path, peers, mine, client_id=tls.assigned_prefix + odd)), odd
    _, claim_cert, claim_key = _claim(stack, tls)
    assert not logged_in(_mtls(stack, tls, tmp_path, peers, (claim_cert, claim_key), client_id=taken))
    assert not victim.disconnected.wait(1), "a refused client id took the victim's session over"
    # Its session (clean start with an expiry) outlives the connection: no one else resumes it
    victim.client.subscribe(f"tenant/{other_api.tenant_id}/devices/assigned-1/commands/#", qos=1)
    victim.client.disconnect()
    assert victim.disconnected.wait(5)
    resumer = _v5(stack, tls, tmp_path, peers, mine, client_id=taken, clean_start=False)
    assert not logged_in(resumer)
    claim_resumer = _v5(stack, tls, tmp_path, peers, (claim_cert, claim_key), client_id=taken, clean_start=False)
    assert not logged_in(claim_resumer)
    # Its own device comes back to it
    back = _v5(stack, tls, tmp_path, peers, theirs, client_id=taken, clean_start=False)
    assert logged_in(back) and _session_present(back)


def test_a_claim_board_on_mqtt5_leaves_no_session_another_claim_resumes(
        stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    _, cert_a, key_a = _claim(stack, tls)
    _, cert_b, key_b = _claim(stack, tls)
    serial = f"serial-{uuid.uuid4().hex[:8]}"
    # A board asks with a clean start but a session expiry: the broker keeps its session when it leaves
    victim = _v5(stack, tls, tmp_path, peers, (cert_a, key_a), client_id=serial, expiry=3600)
    assert logged_in(victim)
    victim.client.disconnect()
    assert victim.disconnected.wait(5)
    attacker = _v5(stack, tls, tmp_path, peers, (cert_b, key_b), client_id=serial, clean_start=False)
    assert not logged_in(attacker)
    back = _v5(stack, tls, tmp_path, peers, (cert_a, key_a), client_id=serial, clean_start=False)
    assert logged_in(back) and _session_present(back)


@pytest.mark.parametrize("who", ["a device certificate", "a claim board", "a service user other than the sync"])
def test_only_the_sync_cuts_sessions(
        who: str, api: Api, stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer]) -> None:
    device = f"cut-victim-{uuid.uuid4().hex[:6]}"
    victim_cert, attacker_cert = _issue(api, device), _issue(api, f"{device}-x")
    stack.sync.sync_once()
    victim = _mtls(stack, tls, tmp_path, peers, victim_cert, client_id=f"{api.tenant_id}.{device}")
    assert logged_in(victim)
    if who == "a device certificate":
        attacker = _mtls(stack, tls, tmp_path, peers, attacker_cert)
    elif who == "a claim board":
        _, cert, key = _claim(stack, tls)
        attacker = _mtls(stack, tls, tmp_path, peers, (cert, key), client_id=f"board-{uuid.uuid4().hex[:6]}")
    else:
        attacker = _service(stack, peers)
    assert logged_in(attacker)
    for name in (f"{api.tenant_id}.{device}", "svc-sync"):
        attacker.publish(f"$fleet/session-cuts/{name}", b"")
    assert not victim.disconnected.wait(1.5), f"{who} cut another's session"
