"""Certificate helpers for tests: CSRs of every shape an attacker might send, certificates of other CAs."""
from __future__ import annotations

import ssl
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from chalicelib.certificates import x509 as certs
from chalicelib.certificates.local_ca import CA_KEY
from infra.local.broker_tls import TlsFiles
from tests.support import MqttPeer


def csr_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, cn: str | None = None,
            sans: list[str] | None = None, ca: bool = False) -> str:
    """A CSR signed by `key`, asking for this CN, these DNS SANs and maybe a CA certificate."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else []))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def load(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def self_signed(cn: str, days: int = 30, not_before: datetime | None = None) -> tuple[str, str]:
    """(certificate PEM, key PEM) of a self-signed client certificate naming `cn`."""
    key = certs.new_private_key()
    start = not_before or datetime.now(timezone.utc) - timedelta(minutes=5)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + timedelta(days=days)).sign(key, hashes.SHA256()))
    return certs.pem(cert), certs.private_key_pem(key)


def signed_by(ca_key: certs.PrivateKey, ca_cert: x509.Certificate, cn: str, not_before: datetime,
              days: float) -> tuple[str, str]:
    """(certificate PEM, key PEM) of a client certificate for `cn` signed by this CA over a chosen window."""
    key = certs.new_private_key()
    cert = certs.sign_device_certificate(ca_key, ca_cert, key.public_key(), cn, not_before + certs.BACKDATE,
                                         timedelta(days=days))
    return certs.pem(cert), certs.private_key_pem(key)


def stack_ca(tls: TlsFiles) -> tuple[certs.PrivateKey, x509.Certificate]:
    """The test stack CA's key and certificate, to sign certificates its broker trusts."""
    key = certs.load_private_key((tls.ca_file.parent / CA_KEY).read_bytes())
    return key, x509.load_pem_x509_certificate(tls.ca_file.read_bytes())


def tls_peer(host: str, port: int, ca_file: Path, folder: Path, cert_pem: str | None = None,
             key_pem: str | None = None, username: str | None = None, password: str | None = None,
             client_id: str = "", protocol: mqtt.MQTTProtocolVersion = mqtt.MQTTv311,
             clean: bool = True, session_expiry: int = 0) -> MqttPeer:
    """A recording client over TLS (with a client certificate when given); it does not wait for CONNACK.

    With MQTT 5, `clean` is the clean start flag and `session_expiry` the session's expiry interval.

    A refused certificate may fail the handshake or, with TLS 1.3, only close the connection
    after it: `logged_in` tells which, by waiting for a CONNACK.
    """
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                         clean_session=clean if protocol != mqtt.MQTTv5 else None, protocol=protocol)
    certfile = keyfile = None
    if cert_pem and key_pem:
        folder.mkdir(parents=True, exist_ok=True)
        certfile, keyfile = folder / f"{uuid.uuid4().hex}.pem", folder / f"{uuid.uuid4().hex}.key"
        certfile.write_text(cert_pem)
        keyfile.write_text(key_pem)
    client.tls_set(ca_certs=str(ca_file), certfile=str(certfile) if certfile else None,
                   keyfile=str(keyfile) if keyfile else None)
    if username is not None:
        client.username_pw_set(username, password)
    peer = MqttPeer(client)

    def on_connect(c: Any, u: Any, flags: Any, rc: Any, props: Any) -> None:
        peer.connect_rc.append(rc)
        peer.connack.append((flags, props))
        if not rc.is_failure:
            peer.connected.set()

    client.on_connect = on_connect
    client.on_disconnect = lambda *a: peer.disconnected.set()
    client.on_message = lambda c, u, m: peer.messages.put((m.topic, m.payload, bool(m.retain)))
    try:
        if protocol == mqtt.MQTTv5:
            props = Properties(PacketTypes.CONNECT)
            if session_expiry:
                props.SessionExpiryInterval = session_expiry
            client.connect(host, port, keepalive=30, clean_start=clean, properties=props)
        else:
            client.connect(host, port, keepalive=30)
    except (ssl.SSLError, OSError):
        peer.disconnected.set()  # refused in the handshake itself
        return peer
    client.loop_start()
    return peer


def logged_in(peer: MqttPeer, timeout: float = 5.0) -> bool:
    """True once a CONNACK accepted the peer; False when the connection was refused or closed first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if peer.connected.is_set():
            return True
        if peer.disconnected.is_set() or peer.connect_rc:
            return False
        time.sleep(0.02)
    return False
