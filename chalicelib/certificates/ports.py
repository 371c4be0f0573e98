"""The certificate authority port: who signs device certificates and records their status."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from chalicelib.certificates.schemas import CertificateStatus
from chalicelib.certificates.x509 import CertificateFacts, PublicKey


@dataclass(frozen=True)
class Signed:
    """A certificate an authority signed, and the private key when the authority made the key pair."""

    facts: CertificateFacts
    private_key_pem: str | None = None


class CertificateAuthority(Protocol):
    """Signs certificates for a device's name and keeps the authority's own view of their status.

    `thing` is the device's broker username (the AWS IoT thing name); the subject is the
    authority's to decide, never the caller's.
    """

    def create_keys_and_certificate(self, thing: str, validity: timedelta) -> Signed:
        """Make a key pair and a certificate for `thing`; the private key is in the answer only."""
        ...

    def sign_public_key(self, thing: str, public_key: PublicKey, csr_pem: str, validity: timedelta) -> Signed:
        """Sign a certificate for `thing` with the key of a CSR already checked by the service."""
        ...

    def set_status(self, thing: str, certificate_id: str, status: CertificateStatus) -> None:
        """Tell the authority a certificate's new status (AWS IoT enforces it; the local CRL follows the registry)."""
        ...

    def delete(self, thing: str, certificate_id: str) -> None:
        """Forget a certificate that no longer logs in."""
        ...
