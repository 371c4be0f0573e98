"""The command-batches table: one item per group or site command, with its progress and counters.

The member walk is resumable: `cursor` is the member listing's cursor after the last chunk
done ("" = none yet), and while a batch is sending it carries `due_shard`/`due_at` (a sparse
index), the lease after which the per-minute schedule may take the walk over, and `owner`,
the runner holding that lease (each chunk's write and step are conditional on it).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.indexes import KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.commands.batches.schemas import BatchStatus, BatchTarget, CommandBatch
from chalicelib.core.errors import NotFound, Unavailable
from chalicelib.core.ids import is_valid_id
from chalicelib.core.storage.base import connection, index_meta, table_meta
from chalicelib.core.storage.cursors import Page, query_page
from chalicelib.core.storage.due import DueIndex, DueKeys
from chalicelib.core.storage.errors import failed_conditions, is_condition_failure
from chalicelib.core.storage.idempotency import ClientTokenTaken, IdempotencyClaim, IdempotencyStore
from chalicelib.core.storage.keys import TenantPartitioned

# Position of the claim in the create transaction (PynamoDB sends the puts in call order).
_CLAIM_PUT = 1


class BatchDue(DueIndex["CommandBatchModel"]):
    """Batches still sending, by when their lease ends."""

    Meta = index_meta("batch_due", KeysOnlyProjection())


class CommandBatchModel(TenantPartitioned, DueKeys, Model):
    """One command sent to the members of a group or site; batch ids are ULIDs (newest last)."""

    Meta = table_meta("command-batches")

    batch_id = UnicodeAttribute(range_key=True)
    target_type = UnicodeAttribute()
    target_id = UnicodeAttribute()
    command_type = UnicodeAttribute()
    command_params = JSONAttribute(default=dict)
    status = UnicodeAttribute()
    targeted = NumberAttribute(default=0)
    sent = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(default="")
    expires_at = UTCDateTimeAttribute()
    completed_at = UTCDateTimeAttribute(null=True)
    client_token = UnicodeAttribute(null=True)
    cursor = UnicodeAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    # Set while a walk is handed over cleanly (after a chunk was counted): its next runner redoes nothing.
    handed_over = BooleanAttribute(null=True)
    # Kept as long as its commands' history.
    purge_at = TTLAttribute(null=True)
    batch_due = BatchDue()

    def to_record(self) -> CommandBatch:
        return CommandBatch(
            batch_id=self.batch_id, tenant_id=self.tenant_id, target_type=BatchTarget(self.target_type),
            target_id=self.target_id, command_type=self.command_type, command_params=self.command_params or {},
            status=BatchStatus(self.status), targeted=int(self.targeted or 0), sent=int(self.sent or 0),
            skipped=int(self.skipped or 0), created_at=self.created_at, created_by=self.created_by or "",
            expires_at=self.expires_at, completed_at=self.completed_at, client_token=self.client_token,
        )


@dataclass(frozen=True)
class Walk:
    """Where a sending batch's member walk stands, and which runner's lease it is walked under."""

    tenant_id: str
    batch_id: str
    cursor: str
    owner: str = ""
    # Left by a runner out of time right after counting a chunk: nothing after the cursor is written yet.
    handed_over: bool = False


@dataclass(frozen=True)
class Chunk:
    """What one chunk of the walk did: members seen, commands sent, members skipped."""

    targeted: int
    sent: int
    skipped: int


class BatchRepository:
    """All reads and writes of the command-batches table."""

    def __init__(self, idempotency: IdempotencyStore, retention: timedelta) -> None:
        self._idempotency = idempotency
        self._retention = retention

    def create(self, batch: CommandBatch, shard: int, lease_until: datetime, claim: IdempotencyClaim | None,
               owner: str, handed_over: bool = False) -> None:
        """Store a new sending batch, leased to `owner`, with its client token claim in the same transaction;
        `handed_over`: nothing is written yet, so whoever takes it over starts clean (no chunk to redo).

        Raises ClientTokenTaken when the token already names a batch.
        """
        item = CommandBatchModel(
            batch.tenant_id, batch.batch_id, target_type=batch.target_type.value, target_id=batch.target_id,
            command_type=batch.command_type, command_params=batch.command_params, status=BatchStatus.SENDING.value,
            targeted=0, sent=0, skipped=0, created_at=batch.created_at, created_by=batch.created_by,
            expires_at=batch.expires_at, client_token=batch.client_token, cursor="", owner=owner, due_shard=shard,
            due_at=lease_until, purge_at=batch.expires_at + self._retention, handed_over=handed_over or None,
        )
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(item, condition=CommandBatchModel.batch_id.does_not_exist())
                if claim is not None:
                    self._idempotency.add_to(tx, claim, batch.created_at)
        except TransactWriteError as exc:
            if claim is not None and _CLAIM_PUT in failed_conditions(exc):
                raise ClientTokenTaken(self._idempotency.get(
                    claim.scope, claim.tenant_id, claim.client_token, batch.created_at)) from exc
            raise Unavailable("could not store the batch; retry", field="batch_id") from exc

    def get(self, tenant_id: str, batch_id: str) -> CommandBatch:
        """One batch of the tenant (strongly consistent), or NotFound."""
        try:
            if is_valid_id(batch_id):
                return CommandBatchModel.get(tenant_id, batch_id, consistent_read=True).to_record()
        except DoesNotExist:
            pass
        raise NotFound(f"batch {batch_id} not found", field="batch_id")

    def list_page(self, tenant_id: str, limit: int, next_token: str | None) -> Page[CommandBatch]:
        """A page of the tenant's batches, newest first."""
        page = query_page(CommandBatchModel, tenant_id, limit, next_token, scan_index_forward=False)
        return page.map(CommandBatchModel.to_record)

    def walk(self, tenant_id: str, batch_id: str) -> Walk | None:
        """The batch's unfinished walk, if any (strongly consistent)."""
        try:
            m = CommandBatchModel.get(tenant_id, batch_id, consistent_read=True,
                                      attributes_to_get=["status", "cursor", "handed_over"])
        except DoesNotExist:
            return None
        if m.status != BatchStatus.SENDING.value:
            return None
        return Walk(tenant_id, batch_id, m.cursor or "", handed_over=bool(m.handed_over))

    def advance(self, walk: Walk, cursor: str | None, done: Chunk, now: datetime, lease: timedelta) -> bool:
        """Count a finished chunk and move the cursor past it (None: the batch is sent), renewing the lease.

        Conditioned on the walk being where the caller left it, under its lease: False when
        another runner moved it or took it over, and the caller must stop.
        """
        actions: list[Any] = [CommandBatchModel.targeted.add(done.targeted), CommandBatchModel.sent.add(done.sent),
                              CommandBatchModel.skipped.add(done.skipped)]
        if cursor is None:
            actions += [CommandBatchModel.status.set(BatchStatus.SENT.value), CommandBatchModel.completed_at.set(now),
                        CommandBatchModel.cursor.remove(), CommandBatchModel.owner.remove(),
                        CommandBatchModel.handed_over.remove(), CommandBatchModel.due_shard.remove(),
                        CommandBatchModel.due_at.remove()]
        else:
            actions += [CommandBatchModel.cursor.set(cursor), CommandBatchModel.due_at.set(now + lease),
                        CommandBatchModel.handed_over.set(True) if lease <= timedelta(0)
                        else CommandBatchModel.handed_over.remove()]
        return self._walk_update(walk, actions, CommandBatchModel.owner == walk.owner)

    def hold(self, walk: Walk, now: datetime, lease: timedelta) -> bool:
        """Before a chunk's write: renew the lease if the caller still holds it; False when it lost it meanwhile."""
        return self._walk_update(walk, [CommandBatchModel.due_at.set(now + lease)],
                                 CommandBatchModel.owner == walk.owner)

    def claim(self, walk: Walk, now: datetime, until: datetime) -> bool:
        """Take over for `walk.owner`, leased until `until`, a walk whose lease ran out by `now` (its runner
        died, stalled or ran out of time)."""
        # The claimer may die mid-chunk too: whoever claims after it must redo its chunk.
        return self._walk_update(walk, [CommandBatchModel.due_at.set(until), CommandBatchModel.owner.set(walk.owner),
                                        CommandBatchModel.handed_over.remove()],
                                 CommandBatchModel.due_at <= now)

    def due(self, shard: int, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(tenant_id, batch_id) of the walks in one shard whose lease ran out, oldest first."""
        return [(m.tenant_id, m.batch_id)
                for m in CommandBatchModel.batch_due.query(shard, CommandBatchModel.due_at <= now, limit=limit)]

    @staticmethod
    def _walk_update(walk: Walk, actions: list[Any], extra: Any = None) -> bool:
        condition = (CommandBatchModel.status == BatchStatus.SENDING.value) & (CommandBatchModel.cursor == walk.cursor)
        if extra is not None:
            condition &= extra
        try:
            CommandBatchModel(walk.tenant_id, walk.batch_id).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True
