"""X.509 with the `cryptography` package: keys, CSR checks, signing, fingerprints, CRLs.

Pure functions, no storage and no HTTP: the local CA, the AWS IoT adapter, the stack and
the tests share them.
"""
from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from chalicelib.core.errors import InvalidInput

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey
_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
# Certificates start a little in the past: a device whose clock lags must not find its new one "not yet valid".
BACKDATE = timedelta(minutes=5)


@dataclass(frozen=True)
class CertificateFacts:
    """What the registry records about a signed certificate."""

    certificate_id: str
    serial_number: str
    subject: str
    not_before: datetime
    not_after: datetime
    certificate_pem: str


def new_private_key() -> ec.EllipticCurvePrivateKey:
    """A device key pair: ECDSA P-256 (what AWS IoT, mbedTLS and the AWS CRT all speak)."""
    return ec.generate_private_key(ec.SECP256R1())


def private_key_pem(key: PrivateKey) -> str:
    """PKCS#8 PEM, unencrypted (the file it is written to is 0600)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def load_private_key(pem: bytes) -> PrivateKey:
    """A PEM private key of the kinds we make (EC or RSA)."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError("unsupported private key type")
    return key


def common_name(name: x509.Name) -> str | None:
    """The single CN of a name, or None when it has none."""
    cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(cns) != 1:
        return None
    value = cns[0].value
    return value if isinstance(value, str) else value.decode(errors="replace")


def checked_csr_key(csr_pem: str, expected_cn: str | None, field: str = "csr") -> PublicKey:
    """The public key of a device's CSR, after refusing what it must not ask for.

    The signed subject is always the one the server decides; a CSR that asks for another
    name (a CN other than the device's, any SAN) or for a CA certificate is refused rather
    than silently trimmed, so a caller never believes it got what it asked for. With
    `expected_cn` None (a board enrolling by claim cannot know its name yet) any CN is taken and ignored.
    """
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
    except (ValueError, UnicodeEncodeError) as exc:
        raise InvalidInput("csr must be one PEM certificate signing request", field=field) from exc
    try:
        # cryptography parses key, subject and extensions lazily: a malformed one raises only here.
        if not csr.is_signature_valid:
            raise InvalidInput("csr signature does not verify (it must be signed by its own key)", field=field)
        key = csr.public_key()
        subject, extensions = csr.subject, list(csr.extensions)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InvalidInput(f"csr is malformed: {exc}", field=field) from exc
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise InvalidInput("csr key: RSA keys must have at least 2048 bits", field=field)
    elif not (isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, _CURVES)):
        raise InvalidInput("csr key must be RSA (2048+) or ECDSA on P-256, P-384 or P-521", field=field)
    names = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if expected_cn is not None and names and (len(names) != 1 or common_name(subject) != expected_cn):
        raise InvalidInput(f"csr subject CN must be the device's name {expected_cn} (or absent)", field=field)
    for ext in extensions:
        if isinstance(ext.value, x509.BasicConstraints) and ext.value.ca:
            raise InvalidInput("csr must not ask for a CA certificate (basicConstraints CA:TRUE)", field=field)
        if isinstance(ext.value, x509.KeyUsage) and (ext.value.key_cert_sign or ext.value.crl_sign):
            raise InvalidInput("csr must not ask to sign certificates or CRLs (keyCertSign, cRLSign)", field=field)
        if isinstance(ext.value, x509.SubjectAlternativeName | x509.IssuerAlternativeName | x509.NameConstraints):
            raise InvalidInput("csr must not ask for alternative names; the device's name is the CN",
                               field=field)
    return key


def csr_alone(csr_pem: str) -> str:
    """The request `checked_csr_key` checked, as PEM of the parsed object: text around it and any
    further PEM block (which the parser ignores) never reach the signer."""
    return x509.load_pem_x509_csr(csr_pem.encode()).public_bytes(serialization.Encoding.PEM).decode()


# X.509's upper bound of a common name (RFC 5280 ub-common-name): a longer broker username cannot be a subject.
MAX_COMMON_NAME = 64


def device_name(cn: str) -> x509.Name:
    """The subject of a device certificate: its broker username as CN, nothing else (400 when it cannot be one)."""
    if len(cn) > MAX_COMMON_NAME:
        raise InvalidInput(f"a certificate names its device `{{tenant_id}}.{{device_id}}` in at most {MAX_COMMON_NAME} "
                           f"characters, and {cn[:MAX_COMMON_NAME]}... has {len(cn)}: use a shorter device_id",
                           field="device_id")
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def sign_device_certificate(ca_key: PrivateKey, ca_cert: x509.Certificate, public_key: PublicKey, cn: str,
                            now: datetime, validity: timedelta) -> x509.Certificate:
    """A TLS client certificate for `cn`: not a CA, client authentication only."""
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateBuilder()
        .subject_name(device_name(cn))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + validity, ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=isinstance(public_key, rsa.RSAPublicKey),
                                     content_commitment=False, data_encipherment=False, key_agreement=False,
                                     key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False),
                       critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
    )
    return builder.sign(ca_key, hashes.SHA256())


def new_ca(common: str, now: datetime, validity: timedelta) -> tuple[PrivateKey, x509.Certificate]:
    """A self-signed CA that may sign end-entity certificates and CRLs only (path length 0)."""
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE).not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA384())
    )
    return key, cert


def server_certificate(ca_key: PrivateKey, ca_cert: x509.Certificate, hosts: list[str], now: datetime,
                       validity: timedelta) -> tuple[PrivateKey, x509.Certificate]:
    """The broker's certificate: server authentication only, SANs for each host name or IP address."""
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = []
    for host in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE).not_valid_after(min(now + validity, ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def revocation_list(ca_key: PrivateKey, ca_cert: x509.Certificate, serials: list[tuple[int, datetime]],
                    now: datetime, next_update: timedelta) -> x509.CertificateRevocationList:
    """A CRL of the CA listing these (serial, revoked at) pairs."""
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca_cert.subject)
               .last_update(now - BACKDATE).next_update(now + next_update))
    for serial, when in serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
    return builder.sign(ca_key, hashes.SHA384())


def pem(cert: x509.Certificate) -> str:
    """The certificate as PEM text."""
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate, lower-case hex: AWS IoT's certificate id."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def facts(certificate_pem: str) -> CertificateFacts:
    """The id, serial, subject and validity of a PEM certificate (one signed by us or by AWS IoT)."""
    cert = x509.load_pem_x509_certificate(certificate_pem.encode())
    return CertificateFacts(
        certificate_id=fingerprint(cert),
        serial_number=format(cert.serial_number, "x"),
        subject=cert.subject.rfc4514_string(),
        not_before=cert.not_valid_before_utc.astimezone(timezone.utc),
        not_after=cert.not_valid_after_utc.astimezone(timezone.utc),
        certificate_pem=pem(cert),
    )
