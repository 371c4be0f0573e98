"""The local certificate authority: a CA key pair on disk signs device certificates, the broker's and its CRL.

The key file is 0600 and made once (`ensure`); the local stack keeps it across restarts
and `make reset` deletes it, so every certificate of a reset stack stops working.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from chalicelib.certificates import x509 as certs
from chalicelib.certificates.ports import Signed
from chalicelib.certificates.schemas import CertificateStatus
from chalicelib.certificates.x509 import PrivateKey, PublicKey
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.config import MisconfiguredStage

CA_KEY = "ca.key"
CA_CERT = "ca.pem"
CA_VALIDITY = timedelta(days=3650)


def write_private(path: Path, text: str) -> None:
    """Write a secret file owner-only from its first byte, atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def ensure(ca_dir: Path, clock: Clock = utcnow) -> Path:
    """Create the CA in `ca_dir` unless it is there; the CA certificate's path."""
    ca_dir.mkdir(parents=True, exist_ok=True)
    ca_dir.chmod(0o700)
    key_path, cert_path = ca_dir / CA_KEY, ca_dir / CA_CERT
    if not (key_path.exists() and cert_path.exists()):
        key, cert = certs.new_ca("fleet local device CA", clock(), CA_VALIDITY)
        write_private(key_path, certs.private_key_pem(key))
        cert_path.write_text(certs.pem(cert))
    return cert_path


class LocalCertificateAuthority:
    """The CertificateAuthority port over a CA directory; status lives in the registry (the broker's CRL follows it)."""

    def __init__(self, ca_dir: Path, clock: Clock = utcnow) -> None:
        self._dir = ca_dir
        self._clock = clock
        self._loaded: tuple[PrivateKey, x509.Certificate] | None = None

    @property
    def ca_certificate_path(self) -> Path:
        """The CA certificate devices and the broker trust."""
        return self._dir / CA_CERT

    def _ca(self) -> tuple[PrivateKey, x509.Certificate]:
        if self._loaded is None:
            key_path = self._dir / CA_KEY
            if not key_path.exists():
                # The stage's fault, not the caller's: FLEET_CERTIFICATE_CA_DIR names no CA (the local stack makes one).
                raise MisconfiguredStage("FLEET_CERTIFICATE_CA_DIR: no local CA there (ca.key, ca.pem)")
            key = certs.load_private_key(key_path.read_bytes())
            cert = x509.load_pem_x509_certificate((self._dir / CA_CERT).read_bytes())
            self._loaded = (key, cert)
        return self._loaded

    def create_keys_and_certificate(self, thing: str, validity: timedelta) -> Signed:
        """A fresh P-256 key pair and its certificate."""
        key = certs.new_private_key()
        signed = self.sign_public_key(thing, key.public_key(), "", validity)
        return Signed(signed.facts, certs.private_key_pem(key))

    def sign_public_key(self, thing: str, public_key: PublicKey, csr_pem: str, validity: timedelta) -> Signed:
        """Sign `public_key` for `thing` (the CSR's own subject and extensions are never copied)."""
        ca_key, ca_cert = self._ca()
        cert = certs.sign_device_certificate(ca_key, ca_cert, public_key, thing, self._clock(), validity)
        return Signed(certs.facts(certs.pem(cert)))

    def set_status(self, thing: str, certificate_id: str, status: CertificateStatus) -> None:
        """Nothing to do: the broker's CRL and ACLs are built from the registry."""

    def delete(self, thing: str, certificate_id: str) -> None:
        """Nothing to do: a deleted certificate stays on the CRL until it expires (see the store)."""

    def server_certificate(self, out_dir: Path, hosts: list[str],
                           validity: timedelta = CA_VALIDITY) -> tuple[Path, Path]:
        """(certificate, key) files of a TLS server certificate for these host names and addresses."""
        ca_key, ca_cert = self._ca()
        key, cert = certs.server_certificate(ca_key, ca_cert, hosts, self._clock(), validity)
        key_path, cert_path = out_dir / "server.key", out_dir / "server.pem"
        write_private(key_path, certs.private_key_pem(key))
        cert_path.write_text(certs.pem(cert))
        return cert_path, key_path

    def write_crl(self, path: Path, serials: list[tuple[int, datetime]]) -> None:
        """Write the CRL listing these (serial, no longer valid since) pairs, atomically."""
        ca_key, ca_cert = self._ca()
        now = self._clock()
        # Valid as long as the CA: OpenSSL refuses every certificate once the CRL's nextUpdate passes, and
        # the sync rewrites this file only when the registry changes (a quiet month must not lock devices out).
        crl = certs.revocation_list(ca_key, ca_cert, serials, now, ca_cert.not_valid_after_utc - now)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
        os.replace(tmp, path)
