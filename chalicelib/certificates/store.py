"""Certificates in DynamoDB: one item per certificate under its device, tombstones for deleted ones.

A deleted certificate that was never expired must stay refused: DELETE moves it to a
tombstone partition the listings never read, kept (and put on the local broker's CRL)
until it expires, then removed by the table's TTL.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.certificates.schemas import Certificate, CertificateStatus
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.storage.base import connection, index_meta, table_meta
from chalicelib.core.storage.cursors import Page, query_page
from chalicelib.core.storage.errors import read_or_raise, written_or_raise
from chalicelib.core.storage.keys import tenant_key

BROKER_PARTITION = "broker"
# Ids never contain '#', so "deleted#{tenant}#{device}" is never a live device's partition.
DELETED = "deleted#"
# A tombstone outlives its certificate by a day: clocks of devices and brokers drift.
TOMBSTONE_GRACE = timedelta(days=1)


class CertificatesForBroker(GlobalSecondaryIndex["CertificateModel"]):
    """Every certificate and tombstone, for the local broker's CRL and ACLs (never a request path)."""

    Meta = index_meta("broker_certificates", AllProjection())

    broker_partition = UnicodeAttribute(hash_key=True)
    certificate_id = UnicodeAttribute(range_key=True)


class ClaimsOfTemplate(GlobalSecondaryIndex["CertificateModel"]):
    """The claim certificates of one template (`{tenant}#{template}`): sparse, only claims carry the key."""

    Meta = index_meta("template_claims", AllProjection())

    template_key = UnicodeAttribute(hash_key=True)
    certificate_id = UnicodeAttribute(range_key=True)


class CertificateModel(Model):
    """One X.509 certificate of one device, or a claim certificate, or one pending activation.

    The private key is never stored. A claim lives in `claim#{certificate_id}` (the broker names it
    by its id alone); a certificate made through a claim waits in `pending#{token hash}` until its
    ownership token provisions it into its device's partition.
    """

    Meta = table_meta("certificates")

    device_key = UnicodeAttribute(hash_key=True)
    certificate_id = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    # None for a claim and for a certificate pending activation (no device yet).
    device_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    subject = UnicodeAttribute()
    serial_number = UnicodeAttribute()
    not_before = UTCDateTimeAttribute()
    not_after = UTCDateTimeAttribute()
    created_at = UTCDateTimeAttribute()
    status_changed_at = UTCDateTimeAttribute()
    certificate_pem = UnicodeAttribute()
    broker_partition = UnicodeAttribute(default=BROKER_PARTITION)
    expires_at = TTLAttribute(null=True)
    kind = UnicodeAttribute(null=True)  # None: a device certificate (items older than claims)
    template_key = UnicodeAttribute(null=True)
    # Of a pending certificate: the claim that made it, its token's expiry, when a provision took the token.
    claim_id = UnicodeAttribute(null=True)
    token_expires_at = UTCDateTimeAttribute(null=True)
    consumed_at = UTCDateTimeAttribute(null=True)
    # Of a claim: the hour its boards' certificates are counted in, and how many they made in it.
    creates_hour = UnicodeAttribute(null=True)
    creates_in_hour = NumberAttribute(null=True)
    for_broker = CertificatesForBroker()
    claims_of_template = ClaimsOfTemplate()

    def to_record(self) -> Certificate:
        return Certificate(
            certificate_id=self.certificate_id, tenant_id=self.tenant_id, device_id=self.device_id or "",
            status=CertificateStatus(self.status), subject=self.subject, serial_number=self.serial_number,
            not_before=self.not_before, not_after=self.not_after, created_at=self.created_at,
            certificate_pem=self.certificate_pem,
        )


def save_new(item: CertificateModel) -> None:
    """Store a new certificate item; 409 if its partition holds that certificate already."""
    written_or_raise(lambda: item.save(condition=CertificateModel.certificate_id.does_not_exist()),
                     Conflict("certificate already registered", field="certificate_id"))


def move_status(model: CertificateModel, read: CertificateStatus, status: CertificateStatus, now: datetime) -> None:
    """Move the item from the status it was read in to `status`; 409 if it moved meanwhile."""
    written_or_raise(
        lambda: model.update(actions=[CertificateModel.status.set(status.value),
                                      CertificateModel.status_changed_at.set(now)],
                             condition=CertificateModel.status == read.value),
        Conflict("certificate status changed concurrently; retry", field="status"))


def _not_found(certificate_id: str) -> NotFound:
    return NotFound(f"certificate {certificate_id} not found", field="certificate_id")


def certificate_item(cert: Certificate) -> CertificateModel:
    """The item of a new device certificate (bulk imports write it in their own transactions)."""
    return CertificateModel(
        tenant_key(cert.tenant_id, cert.device_id), cert.certificate_id, tenant_id=cert.tenant_id,
        device_id=cert.device_id, status=cert.status.value, subject=cert.subject,
        serial_number=cert.serial_number, not_before=cert.not_before, not_after=cert.not_after,
        created_at=cert.created_at, status_changed_at=cert.created_at, certificate_pem=cert.certificate_pem,
    )


class CertificateRepository:
    """Reads and conditional writes of certificates."""

    def add(self, cert: Certificate) -> None:
        """Store a new certificate; 409 if its fingerprint is already known."""
        save_new(certificate_item(cert))

    def get(self, tenant_id: str, device_id: str, certificate_id: str) -> Certificate:
        """One certificate of the device, or NotFound (another device's or tenant's included)."""
        return self._model(tenant_id, device_id, certificate_id).to_record()

    def _model(self, tenant_id: str, device_id: str, certificate_id: str) -> CertificateModel:
        return read_or_raise(lambda: CertificateModel.get(tenant_key(tenant_id, device_id), certificate_id,
                                                          consistent_read=True), _not_found(certificate_id))

    def list_page(self, tenant_id: str, device_id: str, limit: int, next_token: str | None) -> Page[Certificate]:
        """A page of the device's certificates in id order."""
        page = query_page(CertificateModel, tenant_key(tenant_id, device_id), limit, next_token)
        return page.map(CertificateModel.to_record)

    def all_of_device(self, tenant_id: str, device_id: str) -> list[Certificate]:
        """Every certificate of the device (a device has a handful)."""
        return [m.to_record() for m in CertificateModel.query(tenant_key(tenant_id, device_id), consistent_read=True)]

    def set_status(self, cert: Certificate, status: CertificateStatus, now: datetime) -> Certificate:
        """Move the certificate from the status it was read in to `status`; 409 if it moved meanwhile."""
        move_status(CertificateModel(tenant_key(cert.tenant_id, cert.device_id), cert.certificate_id),
                    cert.status, status, now)
        return cert.model_copy(update={"status": status})

    def delete(self, cert: Certificate, now: datetime) -> None:
        """Replace the certificate by a REVOKED tombstone in one transaction, if it is still in the status read."""
        model = CertificateModel(tenant_key(cert.tenant_id, cert.device_id), cert.certificate_id)
        tombstone = CertificateModel(
            DELETED + tenant_key(cert.tenant_id, cert.device_id), cert.certificate_id, tenant_id=cert.tenant_id,
            device_id=cert.device_id, status=CertificateStatus.REVOKED.value, subject=cert.subject,
            serial_number=cert.serial_number, not_before=cert.not_before, not_after=cert.not_after,
            created_at=cert.created_at, status_changed_at=now, certificate_pem=cert.certificate_pem,
            expires_at=cert.not_after + TOMBSTONE_GRACE,
        )
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.delete(model, condition=CertificateModel.status == cert.status.value)
                tx.save(tombstone)
        except TransactWriteError as exc:
            raise Conflict("certificate status changed concurrently; retry", field="certificate_id") from exc

    def for_broker(self) -> list[CertificateModel]:
        """Every certificate and tombstone, for the local broker (a Query of one index partition)."""
        return list(CertificateModel.for_broker.query(BROKER_PARTITION))
