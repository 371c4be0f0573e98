"""Certificate shapes: statuses, records, request bodies and the one-time creation answer."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from chalicelib.core.schema import Record, Request, StrictInt


class CertificateStatus(StrEnum):
    """AWS IoT's certificate statuses: only ACTIVE logs in; REVOKED is final.

    PENDING_ACTIVATION is a certificate a board made through a claim and has not provisioned yet.
    """

    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    REVOKED = "REVOKED"
    PENDING_ACTIVATION = "PENDING_ACTIVATION"


class CertificateKind(StrEnum):
    """A device's own certificate, or a claim certificate a factory flashes into many boards."""

    DEVICE = "device"
    CLAIM = "claim"


class Certificate(Record):
    """A device certificate as the registry keeps it (never its private key)."""

    certificate_id: str
    tenant_id: str
    device_id: str
    status: CertificateStatus
    subject: str
    serial_number: str
    not_before: datetime
    not_after: datetime
    created_at: datetime
    certificate_pem: str


class IssuedCertificate(Record):
    """What issuing answers once: the certificate and, when the server made the key pair, its private key."""

    certificate: Certificate
    private_key_pem: str | None = None


# A PEM CSR of a 4096-bit RSA key is under 2 KB; a bound keeps a hostile body small.
MAX_CSR_CHARS = 16 * 1024


class CreateCertificate(Request):
    """POST /customer/devices/{device_id}/certificates: a server-made key pair, or the device's CSR signed."""

    csr: str | None = Field(default=None, min_length=1, max_length=MAX_CSR_CHARS)
    validity_days: StrictInt | None = Field(default=None, ge=1, le=3650)


class UpdateCertificate(Request):
    """PATCH /customer/devices/{device_id}/certificates/{certificate_id}."""

    status: CertificateStatus


class ClaimCertificate(Record):
    """A claim certificate of a provisioning template (never its private key): boards enrol with it."""

    certificate_id: str
    tenant_id: str
    template_name: str
    status: CertificateStatus
    subject: str
    serial_number: str
    not_before: datetime
    not_after: datetime
    created_at: datetime
    certificate_pem: str


class CreateClaimCertificate(Request):
    """POST /customer/provisioning-templates/{name}/claim-certificates (default: the template's claim_validity_days)."""

    expires_in_days: StrictInt | None = Field(default=None, ge=1, le=3650)
