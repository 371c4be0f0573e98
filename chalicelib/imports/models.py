"""The device-imports tables: one item per import (progress, counts, lease) and one per chunk of its rows.

A chunk item holds its rows as parsed, and once done their results. While the runner
creates a chunk's devices it first writes their tokens to the chunk (`pending`), so a run
that dies part-way can tell, on the redo, the devices it made from those that were there
before; a done chunk keeps the tokens (`credentials`) until the one download or the expiry.
The certificates of rows that ask for one are held the same way (`pending_certs`, see certs.py).
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.core.storage.base import index_meta, table_meta
from chalicelib.core.storage.due import DueIndex, DueKeys
from chalicelib.core.storage.keys import TenantPartitioned
from chalicelib.imports.schemas import CredentialsState, DeviceImport, ImportFormat, ImportStatus


class ImportDue(DueIndex["DeviceImportModel"]):
    """Imports with work left for the schedule: rows to create, or credentials to erase once expired."""

    Meta = index_meta("import_due", KeysOnlyProjection())


class DeviceImportModel(TenantPartitioned, DueKeys, Model):
    """One import of one tenant; import ids are ULIDs (newest last)."""

    Meta = table_meta("device-imports")

    import_id = UnicodeAttribute(range_key=True)
    format = UnicodeAttribute()
    status = UnicodeAttribute()
    rows = NumberAttribute()
    chunks = NumberAttribute()
    # The first row number of each chunk, to find a row's chunk when paging through results.
    chunk_starts = JSONAttribute(default=list)
    # The walk: the next chunk to do (== chunks once completed).
    next_chunk = NumberAttribute(default=0)
    created = NumberAttribute(default=0)
    existed = NumberAttribute(default=0)
    refused = NumberAttribute(default=0)
    credentials = UnicodeAttribute(default=CredentialsState.NONE.value)
    credentials_expire_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(default="")
    completed_at = UTCDateTimeAttribute(null=True)
    client_token = UnicodeAttribute(null=True)
    purge_at = TTLAttribute(null=True)
    import_due = ImportDue()

    def to_record(self) -> DeviceImport:
        return DeviceImport(
            import_id=self.import_id, tenant_id=self.tenant_id, status=ImportStatus(self.status),
            format=ImportFormat(self.format), rows=int(self.rows), created=int(self.created or 0),
            existed=int(self.existed or 0), refused=int(self.refused or 0),
            credentials=CredentialsState(self.credentials), credentials_expire_at=self.credentials_expire_at,
            created_at=self.created_at, created_by=self.created_by or "", completed_at=self.completed_at,
            client_token=self.client_token)


class ImportChunkModel(Model):
    """One chunk of an import's rows, with their results once done."""

    Meta = table_meta("device-import-chunks")

    chunk_key = UnicodeAttribute(hash_key=True)
    number = NumberAttribute(range_key=True)
    rows = JSONAttribute()
    results = JSONAttribute(null=True)
    # device_id -> provision token, written before the chunk's devices are (see the module docstring).
    pending = JSONAttribute(null=True)
    # device_id -> [certificate_id, certificate_pem, private_key_pem], held like `pending`.
    pending_certs = JSONAttribute(null=True)
    # [[device_id, token], ...] of the devices the chunk created, until downloaded or expired; a row's
    # certificate follows its token: [device_id, token, certificate_id, certificate_pem, private_key_pem].
    credentials = JSONAttribute(null=True)
    purge_at = TTLAttribute(null=True)
