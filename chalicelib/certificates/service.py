"""Issue device certificates, list them, change their status, delete them.

The subject is always the device's broker username (`{tenant_id}.{device_id}`, the
AWS IoT thing name): whatever a CSR asks for, a certificate can only ever name the
device it was made for. Every change bumps the credential epoch the local broker follows.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from chalicelib.certificates import rules
from chalicelib.certificates.ports import CertificateAuthority, Signed
from chalicelib.certificates.schemas import Certificate, CertificateStatus, IssuedCertificate
from chalicelib.certificates.store import CertificateRepository
from chalicelib.certificates.x509 import checked_csr_key
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.identity import mqtt_username
from chalicelib.core.storage.cursors import Page

DEFAULT_VALIDITY = timedelta(days=365)


class CertificateService:
    """Device certificates of any tenant; every method takes the caller's tenant first."""

    def __init__(self, repo: CertificateRepository, authority: CertificateAuthority,
                 device_exists: Callable[[str, str], bool], on_changed: Callable[[], None],
                 validity: timedelta = DEFAULT_VALIDITY, clock: Clock = utcnow) -> None:
        self._repo = repo
        self._ca = authority
        self._device_exists = device_exists
        self._on_changed = on_changed
        self._validity = validity
        self._clock = clock

    def issue(self, tenant_id: str, device_id: str, csr: str | None = None,
              validity_days: int | None = None) -> IssuedCertificate:
        """A new ACTIVE certificate for the device: signed from `csr`, or with a key pair made here (answered once)."""
        self._require_device(tenant_id, device_id)
        thing = mqtt_username(tenant_id, device_id)
        validity = timedelta(days=validity_days) if validity_days else self._validity
        signed: Signed
        if csr is None:
            signed = self._ca.create_keys_and_certificate(thing, validity)
        else:
            signed = self._ca.sign_public_key(thing, checked_csr_key(csr, thing), csr, validity)
        f = signed.facts
        cert = Certificate(certificate_id=f.certificate_id, tenant_id=tenant_id, device_id=device_id,
                           status=CertificateStatus.ACTIVE, subject=f.subject, serial_number=f.serial_number,
                           not_before=f.not_before, not_after=f.not_after, created_at=self._clock(),
                           certificate_pem=f.certificate_pem)
        self._repo.add(cert)
        self._on_changed()
        return IssuedCertificate(certificate=cert, private_key_pem=signed.private_key_pem)

    def get(self, tenant_id: str, device_id: str, certificate_id: str) -> Certificate:
        """One certificate of the tenant's device."""
        self._require_device(tenant_id, device_id)
        return self._repo.get(tenant_id, device_id, certificate_id)

    def list_page(self, tenant_id: str, device_id: str, limit: int, next_token: str | None) -> Page[Certificate]:
        """A page of the device's certificates."""
        self._require_device(tenant_id, device_id)
        return self._repo.list_page(tenant_id, device_id, limit, next_token)

    def set_status(self, tenant_id: str, device_id: str, certificate_id: str,
                   status: CertificateStatus) -> Certificate:
        """ACTIVE, INACTIVE or REVOKED (final); the broker refuses and cuts a certificate that is not ACTIVE."""
        cert = self.get(tenant_id, device_id, certificate_id)
        if not rules.may_change(cert.status, status):
            raise Conflict(f"a {cert.status.value} certificate cannot become {status.value}", field="status")
        if cert.status == status:
            return cert
        self._ca.set_status(mqtt_username(tenant_id, device_id), certificate_id, status)
        changed = self._repo.set_status(cert, status, self._clock())
        self._on_changed()
        return changed

    def delete(self, tenant_id: str, device_id: str, certificate_id: str) -> None:
        """Delete a certificate that is not ACTIVE (it stays refused until it expires)."""
        cert = self.get(tenant_id, device_id, certificate_id)
        if not rules.may_delete(cert.status):
            raise Conflict("an ACTIVE certificate cannot be deleted; set it INACTIVE or REVOKED first",
                           field="certificate_id")
        self._ca.delete(mqtt_username(tenant_id, device_id), certificate_id)
        self._repo.delete(cert, self._clock())
        self._on_changed()

    def revoke_all(self, tenant_id: str, device_id: str) -> int:
        """Revoke and delete every certificate of a device being deleted: one re-made under its id starts clean."""
        thing = mqtt_username(tenant_id, device_id)
        found = self._repo.all_of_device(tenant_id, device_id)
        for cert in found:
            if cert.status is not CertificateStatus.REVOKED:
                self._ca.set_status(thing, cert.certificate_id, CertificateStatus.REVOKED)
            self._repo.delete(cert, self._clock())
        if found:
            self._on_changed()
        return len(found)

    def _require_device(self, tenant_id: str, device_id: str) -> None:
        if not self._device_exists(tenant_id, device_id):
            raise NotFound(f"device {device_id} not found", field="device_id")
