"""Claim certificates of a template: the one credential a factory flashes into every board.

A claim may do nothing on the broker but ask for a certificate and provision it through its
own template (the claim listener's ACL, written from the registry). It is signed by the
stack's CA with CN `claim-<certificate_id>`. A certificate cannot name its own fingerprint
(and a CN holds at most 64 characters), so a claim's id is 48 random hex digits chosen before
it is signed. Its key is answered once and stored nowhere.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from chalicelib.certificates import rules as certificate_rules
from chalicelib.certificates.claim_store import ClaimRepository
from chalicelib.certificates.ports import Signed
from chalicelib.certificates.schemas import CertificateStatus, ClaimCertificate
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.errors import Conflict
from chalicelib.core.storage.cursors import Page
from chalicelib.provisioning.claim_rules import CLAIM_CN_PREFIX, CLAIM_ID_BYTES
from chalicelib.provisioning.service import TemplateService


class ClaimService:
    """Issue, list, show and revoke the claim certificates of a tenant's templates."""

    def __init__(self, claims: ClaimRepository, templates: TemplateService,
                 sign: Callable[[str, timedelta], Signed], on_changed: Callable[[], None],
                 clock: Clock = utcnow) -> None:
        self._claims = claims
        self._templates = templates
        self._sign = sign
        self._on_changed = on_changed
        self._clock = clock

    def issue(self, tenant_id: str, template_name: str,
              expires_in_days: int | None) -> tuple[ClaimCertificate, str]:
        """A new ACTIVE claim of the template and its private key (answered once, stored nowhere)."""
        template = self._templates.get(tenant_id, template_name)  # 404 for a foreign or missing one
        days = expires_in_days or template.claim_validity_days
        claim_id = secrets.token_hex(CLAIM_ID_BYTES)
        signed = self._sign(CLAIM_CN_PREFIX + claim_id, timedelta(days=days))
        assert signed.private_key_pem is not None  # the authority made the key pair
        claim = self._claims.add_claim(tenant_id, template_name, replace(signed.facts, certificate_id=claim_id),
                                       self._clock())
        self._on_changed()
        return claim, signed.private_key_pem

    def list_page(self, tenant_id: str, template_name: str, limit: int,
                  next_token: str | None) -> Page[ClaimCertificate]:
        """A page of the template's claims."""
        self._templates.get(tenant_id, template_name)
        return self._claims.claims_page(tenant_id, template_name, limit, next_token)

    def get(self, tenant_id: str, template_name: str, certificate_id: str) -> ClaimCertificate:
        """One claim of the template (404 for another tenant's or template's)."""
        return self._claims.claim_of(tenant_id, template_name, certificate_id)

    def set_status(self, tenant_id: str, template_name: str, certificate_id: str,
                   status: CertificateStatus) -> ClaimCertificate:
        """INACTIVE, ACTIVE again, or REVOKED (final): the broker refuses and cuts a claim that is not ACTIVE."""
        claim = self.get(tenant_id, template_name, certificate_id)
        if status is CertificateStatus.PENDING_ACTIVATION or not certificate_rules.may_change(claim.status, status):
            raise Conflict(f"a {claim.status.value} claim certificate cannot become {status.value}", field="status")
        if claim.status == status:
            return claim
        changed = self._claims.set_claim_status(claim, status, self._clock())
        self._on_changed()
        return changed
