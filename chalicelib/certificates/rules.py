"""The certificate state machine, as data: which status may follow which."""
from __future__ import annotations

from chalicelib.certificates.schemas import CertificateStatus

ACTIVE, INACTIVE, REVOKED = CertificateStatus.ACTIVE, CertificateStatus.INACTIVE, CertificateStatus.REVOKED
PENDING = CertificateStatus.PENDING_ACTIVATION

# REVOKED is final (AWS IoT's rule too): a revoked key may be in anyone's hands.
TRANSITIONS: dict[CertificateStatus, frozenset[CertificateStatus]] = {
    ACTIVE: frozenset({INACTIVE, REVOKED}),
    INACTIVE: frozenset({ACTIVE, REVOKED}),
    REVOKED: frozenset(),
    # Only a provision request activates a pending certificate; nothing else but revocation moves it.
    PENDING: frozenset({ACTIVE, REVOKED}),
}


def may_change(current: CertificateStatus, target: CertificateStatus) -> bool:
    """Whether a certificate in `current` may be set to `target` (setting the same status is a no-op)."""
    return target == current or target in TRANSITIONS[current]


def may_delete(status: CertificateStatus) -> bool:
    """Only a certificate that no longer logs in may be deleted."""
    return status is not ACTIVE
