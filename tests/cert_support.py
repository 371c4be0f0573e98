"""Certificate helpers for tests: CSRs of every shape an attacker might send, certificates of other CAs."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from chalicelib.certificates import x509 as certs


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
