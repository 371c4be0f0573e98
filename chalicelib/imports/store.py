"""Reads and writes of the device-imports tables (see models.py): imports, their chunks, their credentials."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.core.errors import NotFound, Unavailable
from chalicelib.core.ids import is_valid_id
from chalicelib.core.storage.base import connection
from chalicelib.core.storage.batch import BatchWriter, model_sender, serialize
from chalicelib.core.storage.cursors import Page, query_page
from chalicelib.core.storage.errors import failed_conditions, written
from chalicelib.core.storage.idempotency import ClientTokenTaken, IdempotencyClaim, IdempotencyStore
from chalicelib.core.storage.keys import tenant_key
from chalicelib.imports.models import DeviceImportModel, ImportChunkModel
from chalicelib.imports.schemas import CredentialsState, DeviceImport, ImportStatus

# Position of the claim in the create transaction (PynamoDB sends the puts in call order).
_CLAIM_PUT = 1
chunk_key = tenant_key


@dataclass(frozen=True)
class ImportPlan:
    """A new import: the record and its rows already cut into chunks."""

    record: DeviceImport
    chunks: list[list[dict[str, Any]]]
    purge_at: datetime


@dataclass(frozen=True)
class Chunk:
    """One chunk as the runner reads it."""

    number: int
    rows: list[dict[str, Any]]
    results: list[dict[str, Any]] | None
    pending: dict[str, str]
    pending_certs: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ChunkDone:
    """What finishing one chunk writes: its results, its new credentials and the counts they add."""

    results: list[dict[str, Any]]
    credentials: list[list[str]]
    created: int
    existed: int
    refused: int


class ImportRepository:
    """All reads and writes of the device-imports tables."""

    def __init__(self, idempotency: IdempotencyStore) -> None:
        self._idempotency = idempotency

    def create(self, plan: ImportPlan, shard: int, lease_until: datetime, claim: IdempotencyClaim | None) -> None:
        """Store the chunks (batch writes), then the import, leased to its creator, with its client token claim.

        Raises ClientTokenTaken when the token already names an import (the chunks just
        written are then removed again).
        """
        record = plan.record
        key = chunk_key(record.tenant_id, record.import_id)
        chunks = [serialize(ImportChunkModel(key, n, rows=rows, purge_at=plan.purge_at))
                  for n, rows in enumerate(plan.chunks)]
        BatchWriter(model_sender(ImportChunkModel)).write(puts=chunks)
        item = DeviceImportModel(
            record.tenant_id, record.import_id, format=record.format.value, status=ImportStatus.RUNNING.value,
            rows=record.rows, chunks=len(plan.chunks), chunk_starts=[c[0]["row"] for c in plan.chunks],
            next_chunk=0, created=0, existed=0, refused=0, credentials=CredentialsState.NONE.value,
            created_at=record.created_at, created_by=record.created_by, client_token=record.client_token,
            due_shard=shard, due_at=lease_until, purge_at=plan.purge_at)
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(item, condition=DeviceImportModel.import_id.does_not_exist())
                if claim is not None:
                    self._idempotency.add_to(tx, claim, record.created_at)
        except TransactWriteError as exc:
            BatchWriter(model_sender(ImportChunkModel)).write(
                deletes=[{"chunk_key": {"S": key}, "number": {"N": str(n)}} for n in range(len(plan.chunks))])
            if claim is not None and _CLAIM_PUT in failed_conditions(exc):
                raise ClientTokenTaken(self._idempotency.get(
                    claim.scope, claim.tenant_id, claim.client_token, record.created_at)) from exc
            raise Unavailable("could not store the import; retry", field="import_id") from exc

    def get(self, tenant_id: str, import_id: str) -> DeviceImport:
        """One import of the tenant (strongly consistent), or NotFound."""
        return self._model(tenant_id, import_id).to_record()

    def get_with_chunks(self, tenant_id: str, import_id: str) -> tuple[DeviceImport, list[int], int]:
        """One import of the tenant, the first row number of each chunk, and how many chunks are done."""
        m = self._model(tenant_id, import_id)
        return m.to_record(), [int(n) for n in m.chunk_starts or []], int(m.next_chunk or 0)

    def list_page(self, tenant_id: str, limit: int, next_token: str | None) -> Page[DeviceImport]:
        """A page of the tenant's imports, newest first."""
        page = query_page(DeviceImportModel, tenant_id, limit, next_token, scan_index_forward=False)
        return page.map(DeviceImportModel.to_record)

    def walk(self, tenant_id: str, import_id: str) -> int | None:
        """The next chunk of a running import (strongly consistent); None when it is not running."""
        try:
            m = DeviceImportModel.get(tenant_id, import_id, consistent_read=True,
                                      attributes_to_get=["status", "next_chunk"])
        except DoesNotExist:
            return None
        return int(m.next_chunk) if m.status == ImportStatus.RUNNING.value else None

    def chunk(self, tenant_id: str, import_id: str, number: int) -> Chunk:
        """One chunk (strongly consistent)."""
        m = ImportChunkModel.get(chunk_key(tenant_id, import_id), number, consistent_read=True,
                                 attributes_to_get=["number", "rows", "results", "pending", "pending_certs"])
        return Chunk(number, list(m.rows or []), m.results, dict(m.pending or {}), dict(m.pending_certs or {}))

    def results(self, tenant_id: str, import_id: str, number: int) -> list[dict[str, Any]] | None:
        """The results of one chunk (None while it is not done)."""
        try:
            m = ImportChunkModel.get(chunk_key(tenant_id, import_id), number, attributes_to_get=["results"])
        except DoesNotExist:
            return None
        return m.results

    def hold_tokens(self, tenant_id: str, import_id: str, number: int, pending: dict[str, str],
                    pending_certs: dict[str, list[str]]) -> None:
        """Write the tokens (and certificates) of the chunk's devices before the devices themselves."""
        actions: list[Any] = [ImportChunkModel.pending.set(pending)]
        if pending_certs:
            actions.append(ImportChunkModel.pending_certs.set(pending_certs))
        ImportChunkModel(chunk_key(tenant_id, import_id), number).update(actions=actions)

    def finish_chunk(self, tenant_id: str, import_id: str, number: int, done: ChunkDone, last: bool, now: datetime,
                     lease_until: datetime, credentials_expire_at: datetime) -> bool:
        """Store a chunk's results and move the import past it, in one transaction.

        Conditioned on the walk being at this chunk: False when another runner moved it
        (that runner stored the results). The last chunk completes the import; its due
        keys then say when its credentials expire (the schedule erases them).
        """
        item = DeviceImportModel(tenant_id, import_id)
        actions: list[Any] = [DeviceImportModel.next_chunk.set(number + 1),
                              DeviceImportModel.created.add(done.created), DeviceImportModel.existed.add(done.existed),
                              DeviceImportModel.refused.add(done.refused)]
        if done.created:
            actions.append(DeviceImportModel.credentials.set(
                CredentialsState.AVAILABLE.value if last else CredentialsState.PENDING.value))
        elif last:
            # Earlier chunks' devices become downloadable now; none at all means nothing to download.
            actions.append(DeviceImportModel.credentials.set(CredentialsState.AVAILABLE.value))
        if last:
            actions += [DeviceImportModel.status.set(ImportStatus.COMPLETED.value),
                        DeviceImportModel.completed_at.set(now),
                        DeviceImportModel.credentials_expire_at.set(credentials_expire_at),
                        DeviceImportModel.due_at.set(credentials_expire_at)]
        else:
            actions.append(DeviceImportModel.due_at.set(lease_until))
        chunk_actions: list[Any] = [ImportChunkModel.results.set(done.results), ImportChunkModel.pending.remove(),
                                    ImportChunkModel.pending_certs.remove()]
        if done.credentials:
            chunk_actions.append(ImportChunkModel.credentials.set(done.credentials))
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.update(item, actions=actions, condition=(DeviceImportModel.status == ImportStatus.RUNNING.value)
                          & (DeviceImportModel.next_chunk == number))
                tx.update(ImportChunkModel(chunk_key(tenant_id, import_id), number), actions=chunk_actions,
                          condition=ImportChunkModel.number.exists())
        except TransactWriteError as exc:
            if failed_conditions(exc):
                return False
            raise
        return True

    def settle(self, tenant_id: str, import_id: str) -> None:
        """A completed import whose credentials are gone (downloaded, expired, or none made): nothing left due.

        No device created at all means nothing to download either.
        """
        gone = [CredentialsState.DOWNLOADED.value, CredentialsState.EXPIRED.value]
        written(lambda: DeviceImportModel(tenant_id, import_id).update(
            actions=[DeviceImportModel.due_shard.remove(), DeviceImportModel.due_at.remove()],
            condition=(DeviceImportModel.status == ImportStatus.COMPLETED.value)
            & DeviceImportModel.credentials.is_in(*gone)))
        written(lambda: DeviceImportModel(tenant_id, import_id).update(
            actions=[DeviceImportModel.credentials.set(CredentialsState.NONE.value),
                     DeviceImportModel.due_shard.remove(), DeviceImportModel.due_at.remove()],
            condition=(DeviceImportModel.status == ImportStatus.COMPLETED.value) & (DeviceImportModel.created == 0)))

    def extend_lease(self, tenant_id: str, import_id: str, number: int, until: datetime) -> bool:
        """Keep the walk at `number` leased to its runner until `until` (False when it moved on)."""
        return written(lambda: DeviceImportModel(tenant_id, import_id).update(
            actions=[DeviceImportModel.due_at.set(until)],
            condition=(DeviceImportModel.status == ImportStatus.RUNNING.value)
            & (DeviceImportModel.next_chunk == number)))

    def claim(self, tenant_id: str, import_id: str, number: int, now: datetime, until: datetime) -> bool:
        """Take over a walk whose lease ran out by `now`, leased until `until`."""
        return written(lambda: DeviceImportModel(tenant_id, import_id).update(
            actions=[DeviceImportModel.due_at.set(until)],
            condition=(DeviceImportModel.status == ImportStatus.RUNNING.value)
            & (DeviceImportModel.next_chunk == number) & (DeviceImportModel.due_at <= now)))

    def due(self, shard: int, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(tenant_id, import_id) of the imports in one shard with work due, oldest first."""
        return [(m.tenant_id, m.import_id)
                for m in DeviceImportModel.import_due.query(shard, DeviceImportModel.due_at <= now, limit=limit)]

    def state(self, tenant_id: str, import_id: str) -> DeviceImportModel | None:
        """The import's status, walk and credential fields (strongly consistent)."""
        try:
            return DeviceImportModel.get(tenant_id, import_id, consistent_read=True, attributes_to_get=[
                "tenant_id", "import_id", "status", "next_chunk", "chunks", "credentials", "credentials_expire_at",
                "due_at", "created"])
        except DoesNotExist:
            return None

    def credentials(self, tenant_id: str, import_id: str) -> list[list[str]]:
        """Every stored credential of the import's chunks, in row order (strongly consistent)."""
        found: list[list[str]] = []
        for m in ImportChunkModel.query(chunk_key(tenant_id, import_id), consistent_read=True,
                                        attributes_to_get=["number", "credentials"]):
            found += m.credentials or []
        return found

    def take_credentials(self, tenant_id: str, import_id: str, now: datetime, expired: bool = False) -> bool:
        """Mark the credentials downloaded (or, past their expiry, expired), once: False when not available.

        The import stays due at once, so the schedule erases the stored tokens should the
        erase that follows a download not happen.
        """
        condition = DeviceImportModel.credentials == CredentialsState.AVAILABLE.value
        condition &= (DeviceImportModel.credentials_expire_at <= now) if expired else (
            DeviceImportModel.credentials_expire_at > now)
        state = CredentialsState.EXPIRED if expired else CredentialsState.DOWNLOADED
        return written(lambda: DeviceImportModel(tenant_id, import_id).update(
            actions=[DeviceImportModel.credentials.set(state.value), DeviceImportModel.due_at.set(now)],
            condition=condition))

    def erase_credentials(self, tenant_id: str, import_id: str) -> None:
        """Remove every chunk's stored tokens (after the download, or once they expired)."""
        key = chunk_key(tenant_id, import_id)
        for m in ImportChunkModel.query(key, attributes_to_get=["number", "credentials"]):
            if m.credentials:
                ImportChunkModel(key, m.number).update(actions=[ImportChunkModel.credentials.remove()])

    @staticmethod
    def _model(tenant_id: str, import_id: str) -> DeviceImportModel:
        try:
            if is_valid_id(import_id):
                return DeviceImportModel.get(tenant_id, import_id, consistent_read=True)
        except DoesNotExist:
            pass
        raise NotFound(f"import {import_id} not found", field="import_id")
