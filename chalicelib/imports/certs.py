"""The certificates of import rows that ask for one (`certificate: true`).

A row's certificate and key are made before its device is written and held in the chunk
beside its token (`pending_certs`); the certificate item then goes into the same
transaction as the device. A redone chunk finds what it held and writes that, so a crash
never gives a row two certificates, and the registry never holds one without its device.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from chalicelib.core.identity import mqtt_username

if TYPE_CHECKING:
    from chalicelib.certificates.ports import CertificateAuthority
    from chalicelib.certificates.schemas import Certificate

# What a chunk holds of one row's certificate: [certificate_id, certificate_pem, private_key_pem].
Held = list[str]
# A certificate, its key and id in the chunk item, counted against the chunk's bytes when rows are cut: AWS IoT's
# RSA-2048 pair is about 3 KB (the local CA's P-256 pair about 1.1 KB), so a chunk item stays far from 400 KB.
HELD_BYTES = 3072


class CertificateIssuer(Protocol):
    """Makes a key pair and a certificate naming a device (the stage's authority signs it)."""

    def issue(self, tenant_id: str, device_id: str) -> Held:
        """[certificate_id, certificate_pem, private_key_pem] of a new certificate for the device; InvalidInput when
        the device cannot have one (its name is too long for a subject)."""
        ...


class AuthorityIssuer:
    """The CertificateIssuer over the certificates feature's authority (the local CA or AWS IoT)."""

    def __init__(self, authority: CertificateAuthority, validity: timedelta) -> None:
        self._authority = authority
        self._validity = validity

    def issue(self, tenant_id: str, device_id: str) -> Held:
        """A server-made key pair, as `POST /customer/devices/{id}/certificates` without a CSR makes one."""
        signed = self._authority.create_keys_and_certificate(mqtt_username(tenant_id, device_id), self._validity)
        if not signed.private_key_pem:
            raise RuntimeError("the certificate authority answered no private key")
        return [signed.facts.certificate_id, signed.facts.certificate_pem, signed.private_key_pem]


def certificate_of(tenant_id: str, device_id: str, held: Held, now: datetime) -> Certificate:
    """The registry's record of a held certificate: ACTIVE, as an issued one is."""
    from chalicelib.certificates.schemas import Certificate, CertificateStatus
    from chalicelib.certificates.x509 import facts

    f = facts(held[1])
    return Certificate(certificate_id=held[0], tenant_id=tenant_id, device_id=device_id,
                       status=CertificateStatus.ACTIVE, subject=f.subject, serial_number=f.serial_number,
                       not_before=f.not_before, not_after=f.not_after, created_at=now, certificate_pem=held[1])
