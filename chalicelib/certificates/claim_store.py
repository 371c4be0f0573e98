"""Claim certificates and the certificates boards make through them, in the certificates table.

A claim is found by its id alone (the broker names it `claim-<id>`), so it is the one item of
partition `claim#{id}`; the sparse `template_claims` index lists a template's claims. A
certificate a board made through a claim waits in `pending#{sha256 of its ownership token}`:
the provision request finds it by the token, takes the token with a conditional write
(single use), and moves it, ACTIVE, into its device's partition in one transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.certificates.schemas import CertificateKind, CertificateStatus, ClaimCertificate
from chalicelib.certificates.store import CertificateModel, move_status, save_new
from chalicelib.certificates.x509 import CertificateFacts
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.storage.base import connection
from chalicelib.core.storage.cursors import Page, query_page
from chalicelib.core.storage.errors import written
from chalicelib.core.storage.keys import tenant_key

CLAIM = "claim#"
PENDING = "pending#"
# A pending certificate nobody provisioned is kept a day past its token (on the CRL meanwhile).
PENDING_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class Pending:
    """A certificate made through a claim, waiting for its ownership token."""

    certificate_id: str
    tenant_id: str
    claim_id: str
    token_expires_at: datetime
    consumed: bool
    facts: CertificateFacts


def _claim(model: CertificateModel) -> ClaimCertificate:
    template = (model.template_key or "#").split("#", 1)[1]
    return ClaimCertificate(certificate_id=model.certificate_id, tenant_id=model.tenant_id, template_name=template,
                            status=CertificateStatus(model.status), subject=model.subject,
                            serial_number=model.serial_number, not_before=model.not_before,
                            not_after=model.not_after, created_at=model.created_at,
                            certificate_pem=model.certificate_pem)


def _new_item(partition: str, facts: CertificateFacts, tenant_id: str, status: CertificateStatus, now: datetime,
              **attributes: Any) -> CertificateModel:
    """The item of a certificate signed now (a claim, a pending certificate, an activated one)."""
    return CertificateModel(
        partition, facts.certificate_id, tenant_id=tenant_id, status=status.value, subject=facts.subject,
        serial_number=facts.serial_number, not_before=facts.not_before, not_after=facts.not_after, created_at=now,
        status_changed_at=now, certificate_pem=facts.certificate_pem, **attributes)


def _facts(model: CertificateModel) -> CertificateFacts:
    return CertificateFacts(model.certificate_id, model.serial_number, model.subject, model.not_before,
                            model.not_after, model.certificate_pem)


class ClaimRepository:
    """Reads and conditional writes of claims and of the certificates pending through them."""

    def add_claim(self, tenant_id: str, template_name: str, facts: CertificateFacts, now: datetime) -> ClaimCertificate:
        """Store a new ACTIVE claim certificate of the template."""
        item = _new_item(CLAIM + facts.certificate_id, facts, tenant_id, CertificateStatus.ACTIVE, now,
                         kind=CertificateKind.CLAIM.value, template_key=tenant_key(tenant_id, template_name))
        save_new(item)
        return _claim(item)

    def claim(self, certificate_id: str) -> ClaimCertificate | None:
        """The claim of this id (strongly consistent), whichever tenant holds it; None when there is none."""
        if not (0 < len(certificate_id) <= 128) or "#" in certificate_id:
            return None
        try:
            model = CertificateModel.get(CLAIM + certificate_id, certificate_id, consistent_read=True)
        except CertificateModel.DoesNotExist:
            return None
        return _claim(model) if model.kind == CertificateKind.CLAIM.value else None

    def claim_of(self, tenant_id: str, template_name: str, certificate_id: str) -> ClaimCertificate:
        """One claim of the tenant's template, or NotFound (another tenant's or template's included)."""
        found = self.claim(certificate_id)
        if found is None or found.tenant_id != tenant_id or found.template_name != template_name:
            raise NotFound(f"claim certificate {certificate_id} not found", field="certificate_id")
        return found

    def claims_page(self, tenant_id: str, template_name: str, limit: int,
                    next_token: str | None) -> Page[ClaimCertificate]:
        """A page of the template's claims in id order (the index is eventually consistent)."""
        return query_page(CertificateModel, tenant_key(tenant_id, template_name), limit, next_token,
                          index=CertificateModel.claims_of_template).map(_claim)

    def set_claim_status(self, claim: ClaimCertificate, status: CertificateStatus, now: datetime) -> ClaimCertificate:
        """Move the claim from the status it was read in; 409 if it moved meanwhile."""
        move_status(CertificateModel(CLAIM + claim.certificate_id, claim.certificate_id), claim.status, status, now)
        return claim.model_copy(update={"status": status})

    def count_create(self, claim_id: str, now: datetime, limit: int) -> bool:
        """Count one certificate made through the claim in this hour; False when the hour has `limit` already.

        One conditional write in the hour's usual case (a second one starts a new hour).
        """
        hour = now.strftime("%Y-%m-%dT%H")
        model = CertificateModel(CLAIM + claim_id, claim_id)

        def add() -> bool:
            return written(lambda: model.update(
                actions=[CertificateModel.creates_in_hour.add(1)],
                condition=(CertificateModel.creates_hour == hour) & (CertificateModel.creates_in_hour < limit)))

        if add():
            return True
        started = written(lambda: model.update(
            actions=[CertificateModel.creates_hour.set(hour), CertificateModel.creates_in_hour.set(1)],
            condition=CertificateModel.certificate_id.exists()
            & (CertificateModel.creates_hour.does_not_exist() | (CertificateModel.creates_hour != hour))))
        return started or add()  # another request may have started the hour between the two writes

    def add_pending(self, token_hash: str, tenant_id: str, claim_id: str, facts: CertificateFacts,
                    token_expires_at: datetime, now: datetime) -> None:
        """Store a certificate a board made, PENDING_ACTIVATION, under its ownership token's hash."""
        save_new(_new_item(PENDING + token_hash, facts, tenant_id, CertificateStatus.PENDING_ACTIVATION, now,
                           kind=CertificateKind.DEVICE.value, claim_id=claim_id, token_expires_at=token_expires_at,
                           expires_at=token_expires_at + PENDING_GRACE))

    def pending(self, token_hash: str) -> Pending | None:
        """The certificate waiting for this token (strongly consistent), or None."""
        for m in CertificateModel.query(PENDING + token_hash, consistent_read=True, limit=1):
            assert m.claim_id is not None and m.token_expires_at is not None
            return Pending(m.certificate_id, m.tenant_id, m.claim_id, m.token_expires_at, m.consumed_at is not None,
                           _facts(m))
        return None

    def consume(self, token_hash: str, pending: Pending, now: datetime) -> bool:
        """Take the token: True for the one caller whose conditional write found it untaken and unexpired."""
        model = CertificateModel(PENDING + token_hash, pending.certificate_id)
        return written(lambda: model.update(
            actions=[CertificateModel.consumed_at.set(now)],
            condition=CertificateModel.consumed_at.does_not_exist() & (CertificateModel.token_expires_at > now)
            & (CertificateModel.status == "PENDING_ACTIVATION")))

    def activate(self, token_hash: str, pending: Pending, device_id: str, now: datetime) -> None:
        """Move the taken certificate, ACTIVE, into the device's partition (one transaction)."""
        f = pending.facts
        active = _new_item(tenant_key(pending.tenant_id, device_id), f, pending.tenant_id, CertificateStatus.ACTIVE,
                           now, device_id=device_id, kind=CertificateKind.DEVICE.value, claim_id=pending.claim_id)
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.delete(CertificateModel(PENDING + token_hash, f.certificate_id),
                          condition=CertificateModel.consumed_at.exists())
                tx.save(active, condition=CertificateModel.certificate_id.does_not_exist())
        except TransactWriteError as exc:
            raise Conflict("certificate could not be activated; create a new one", field="certificate_id") from exc
