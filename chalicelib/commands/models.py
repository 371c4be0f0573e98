"""The commands table, its sparse indexes, and the references the repository hands out.

Item: hash `device_key` = "{tenant}#{device}", range `command_id` (a ULID, so the device's
history is time-ordered). Three attributes exist only while a command needs attention,
which keeps each index as small as the work it serves:

- `queued_id` (= command_id while queued) -> local index `queued_by_device`: the pending
  poll, oldest first, strongly consistent (a command is pollable right after the POST).
- `expiry_shard` (while queued) -> global index `expiry_due` (range `expires_at`): the
  per-minute expiry reads only what has expired.
- `retry_shard` (while a publish may still be retried) -> global index `retry_due`
  (range `next_attempt_at`): the per-minute retry reads only what is due. The same
  `next_attempt_at` keys `retry_by_tenant` (hash `tenant_id`, keys only): one tenant's
  backlog is counted without reading another's.

`settled_tenant` (= tenant_id) and `settled_at` are set by the final transition -> global
index `settled` (range `settled_at`): a tenant's outcomes of a time window, read by the
overview and the tenant-wide listing; it costs no request of its own (the same UpdateItem).

A fifth, `batch_key` = "{tenant}#{batch_id}", exists only on commands sent to a group
or site; global index `by_batch` (range `device_id`) lists and counts a batch's commands.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import (
    AllProjection,
    GlobalSecondaryIndex,
    IncludeProjection,
    KeysOnlyProjection,
    LocalSecondaryIndex,
)
from pynamodb.models import Model

from chalicelib.commands.schemas import Command, CommandStatus
from chalicelib.core.storage.base import index_meta, table_meta
from chalicelib.core.storage.keys import split_tenant_key, tenant_key
from chalicelib.core.sweep import schedule_shard

# Partition key of a device's commands.
device_key = tenant_key


def shard_of(command_id: str, shards: int) -> str:
    """The schedule shard of a command: stable, spread evenly by a hash of its id."""
    return str(schedule_shard(command_id, shards))


@dataclass(frozen=True)
class CommandRef:
    """Where a command lives."""

    tenant_id: str
    device_id: str
    command_id: str

    @classmethod
    def of(cls, key: str, command_id: str) -> CommandRef:
        """From the table's device_key and command_id."""
        return cls(*split_tenant_key(key), command_id)


@dataclass(frozen=True)
class ExpiryCandidate:
    """A queued command past its expiry, as the expiry index shows it."""

    ref: CommandRef
    seen: bool


@dataclass(frozen=True)
class RetryCandidate:
    """An unpublished command whose next publish attempt is due."""

    ref: CommandRef
    next_attempt_at: datetime
    publish_attempts: int


class QueuedByDevice(LocalSecondaryIndex["CommandModel"]):
    """A device's queued commands (sparse: `queued_id` is removed on the final transition)."""

    Meta = index_meta("queued_by_device", AllProjection())

    device_key = UnicodeAttribute(hash_key=True)
    queued_id = UnicodeAttribute(range_key=True)


class ExpiryDue(GlobalSecondaryIndex["CommandModel"]):
    """Queued commands of one shard by expiry time (sparse on `expiry_shard`)."""

    # Enough to choose missed or expired without reading the item.
    Meta = index_meta("expiry_due", IncludeProjection(["published_at", "fetched_at"]))

    expiry_shard = UnicodeAttribute(hash_key=True)
    expires_at = UTCDateTimeAttribute(range_key=True)


class RetryDue(GlobalSecondaryIndex["CommandModel"]):
    """Unpublished commands of one shard by next publish attempt (sparse on `retry_shard`)."""

    # publish_attempts only changes together with next_attempt_at: no extra index writes.
    Meta = index_meta("retry_due", IncludeProjection(["publish_attempts"]))

    retry_shard = UnicodeAttribute(hash_key=True)
    next_attempt_at = UTCDateTimeAttribute(range_key=True)


class RetryByTenant(GlobalSecondaryIndex["CommandModel"]):
    """One tenant's commands awaiting a publish retry (sparse: `next_attempt_at` leaves with `retry_shard`)."""

    # Only counted (the detailed health's backlog): keys are all it needs.
    Meta = index_meta("retry_by_tenant", KeysOnlyProjection())

    tenant_id = UnicodeAttribute(hash_key=True)
    next_attempt_at = UTCDateTimeAttribute(range_key=True)


class ByBatch(GlobalSecondaryIndex["CommandModel"]):
    """The commands of one group or site batch, by device (sparse on `batch_key`)."""

    # What the batch view shows per device; status changes are the only index writes it adds.
    Meta = index_meta("by_batch", IncludeProjection(["status", "published_at", "fetched_at", "acked_at"]))

    batch_key = UnicodeAttribute(hash_key=True)
    device_id = UnicodeAttribute(range_key=True)


class Settled(GlobalSecondaryIndex["CommandModel"]):
    """A tenant's final commands by the time they became final (sparse on `settled_tenant`)."""

    # What the outcome counts and the ACK latency need; written once, at the final transition.
    Meta = index_meta("settled", IncludeProjection(
        ["status", "device_id", "command_type", "published_at", "acked_at", "publish_attempts", "created_at"]))

    settled_tenant = UnicodeAttribute(hash_key=True)
    settled_at = UTCDateTimeAttribute(range_key=True)


# Partition key of a batch's commands in the by_batch index.
batch_key = tenant_key


class CommandModel(Model):
    """One command sent to one device."""

    Meta = table_meta("commands")

    device_key = UnicodeAttribute(hash_key=True)
    command_id = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    device_id = UnicodeAttribute()
    command_type = UnicodeAttribute()
    command_params = JSONAttribute(default=dict)
    status = UnicodeAttribute(default=CommandStatus.QUEUED.value)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(default="")
    expires_at = UTCDateTimeAttribute()
    published_at = UTCDateTimeAttribute(null=True)
    fetched_at = UTCDateTimeAttribute(null=True)
    acked_at = UTCDateTimeAttribute(null=True)
    ack_details = JSONAttribute(null=True)
    publish_attempts = NumberAttribute(default=0)
    # Sparse index keys: present only while the command is in the index's working set.
    queued_id = UnicodeAttribute(null=True)
    expiry_shard = UnicodeAttribute(null=True)
    retry_shard = UnicodeAttribute(null=True)
    next_attempt_at = UTCDateTimeAttribute(null=True)
    batch_key = UnicodeAttribute(null=True)
    settled_tenant = UnicodeAttribute(null=True)
    settled_at = UTCDateTimeAttribute(null=True)
    # History is kept for the retention period, then DynamoDB's TTL removes it.
    purge_at = TTLAttribute(null=True)

    queued_by_device = QueuedByDevice()
    expiry_due = ExpiryDue()
    retry_due = RetryDue()
    retry_by_tenant = RetryByTenant()
    by_batch = ByBatch()
    settled = Settled()

    def to_record(self) -> Command:
        """The item as the services see it."""
        return Command(
            command_id=self.command_id,
            tenant_id=self.tenant_id,
            device_id=self.device_id,
            command_type=self.command_type,
            command_params=self.command_params or {},
            status=CommandStatus(self.status),
            created_at=self.created_at,
            created_by=self.created_by or "",
            expires_at=self.expires_at,
            published_at=self.published_at,
            fetched_at=self.fetched_at,
            acked_at=self.acked_at,
            ack_details=self.ack_details,
            publish_attempts=int(self.publish_attempts or 0),
            batch_id=split_tenant_key(self.batch_key)[1] if self.batch_key else None,
        )
