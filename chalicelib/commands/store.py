"""All reads and writes of commands. Every status change is a conditional write on `status`."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.commands.models import (
    CommandModel,
    CommandRef,
    ExpiryCandidate,
    RetryCandidate,
    batch_key,
    device_key,
    shard_of,
)
from chalicelib.commands.schemas import (
    FINAL_STATUSES,
    TRANSITIONS,
    Command,
    CommandEvent,
    CommandStatus,
)
from chalicelib.core.errors import Conflict, NotFound, Unavailable
from chalicelib.core.retry import RetryPolicy
from chalicelib.core.storage.base import connection
from chalicelib.core.storage.batch import BatchWriter, model_sender, serialize
from chalicelib.core.storage.cursors import Page, query_page
from chalicelib.core.storage.errors import failed_conditions, written
from chalicelib.core.storage.idempotency import ClientTokenTaken, IdempotencyClaim, IdempotencyStore
from chalicelib.devices.models import DeviceModel
from chalicelib.devices.schemas import DeviceStatus

# A create cancelled by a concurrent transaction on the same claim: 0.05 s, then 0.1 s.
TRANSACTION_RETRY = RetryPolicy(min_s=0.05, max_s=0.1, max_attempts=3, jitter=0.0)
# The detailed health counts a tenant's publish backlog up to this many (one or two Query pages).
AWAITING_PUBLISH_CAP = 1000
# Positions in the create transaction (PynamoDB sends condition checks first, then puts).
_DEVICE_CHECK, _COMMAND_PUT, _CLAIM_PUT = 0, 1, 2


class CommandRepository:
    """Commands table access; `shards` spreads the schedule indexes, `retention` bounds history."""

    def __init__(self, idempotency: IdempotencyStore, shards: int, retention: timedelta,
                 writer: BatchWriter | None = None) -> None:
        self._idempotency = idempotency
        self._writer = writer or BatchWriter(model_sender(CommandModel))
        self._shards = shards
        self._retention = retention

    # -- writes of new commands ---------------------------------------------------------

    def create(self, command: Command, retry_at: datetime | None, claim: IdempotencyClaim | None = None) -> None:
        """Store a queued command, checking in the same transaction that its device may receive it.

        Raises NotFound (no such device), Conflict (device disabled) or ClientTokenTaken.
        """
        item = self._new_item(command, retry_at)
        for attempt in TRANSACTION_RETRY.retries():
            try:
                with TransactWrite(connection=connection()) as tx:
                    tx.condition_check(DeviceModel, command.tenant_id, command.device_id,
                                       condition=DeviceModel.device_id.exists()
                                       & (DeviceModel.status != DeviceStatus.DISABLED.value))
                    tx.save(item, condition=CommandModel.command_id.does_not_exist())
                    if claim is not None:
                        self._idempotency.add_to(tx, claim, command.created_at)
                return
            except TransactWriteError as exc:
                failed = failed_conditions(exc)
                if claim is not None and _CLAIM_PUT in failed:
                    raise ClientTokenTaken(self._idempotency.get(
                        claim.scope, claim.tenant_id, claim.client_token, command.created_at)) from exc
                if _DEVICE_CHECK in failed:
                    raise self._device_refusal(command.tenant_id, command.device_id) from exc
                if failed or TRANSACTION_RETRY.exhausted(attempt):
                    raise Unavailable("could not store the command; retry", field="command_id") from exc
                # A concurrent transaction on the same claim (TransactionConflict): try again.

    def create_many(self, commands: list[Command], retry_at: datetime | None) -> None:
        """Store many queued commands with BatchWriteItem (25 a request), retrying unprocessed ones."""
        self._writer.write(puts=[serialize(self._new_item(c, retry_at)) for c in commands])

    def _new_item(self, command: Command, retry_at: datetime | None) -> CommandModel:
        shard = shard_of(command.command_id, self._shards)
        return CommandModel(
            device_key(command.tenant_id, command.device_id),
            command.command_id,
            tenant_id=command.tenant_id,
            device_id=command.device_id,
            command_type=command.command_type,
            command_params=command.command_params,
            status=command.status.value,
            created_at=command.created_at,
            created_by=command.created_by,
            expires_at=command.expires_at,
            publish_attempts=command.publish_attempts,
            # Set only for a batch's commands, written with the time of the publish round that follows.
            published_at=command.published_at,
            queued_id=command.command_id,
            expiry_shard=shard,
            retry_shard=shard if retry_at else None,
            next_attempt_at=retry_at,
            purge_at=command.expires_at + self._retention,
            batch_key=batch_key(command.tenant_id, command.batch_id) if command.batch_id else None,
        )

    @staticmethod
    def _device_refusal(tenant_id: str, device_id: str) -> Exception:
        try:
            device = DeviceModel.get(tenant_id, device_id, consistent_read=True, attributes_to_get=["status"])
        except DoesNotExist:
            return NotFound(f"device {device_id} not found", field="device_id")
        if device.status == DeviceStatus.DISABLED.value:
            return Conflict(f"device {device_id} is disabled", field="device_id", device_status=device.status)
        return Unavailable("device changed while storing the command; retry", field="device_id")

    # -- reads --------------------------------------------------------------------------

    def get(self, ref: CommandRef) -> Command | None:
        """One command (strongly consistent), or None."""
        try:
            return CommandModel.get(device_key(ref.tenant_id, ref.device_id), ref.command_id,
                                    consistent_read=True).to_record()
        except DoesNotExist:
            return None

    def history(self, tenant_id: str, device_id: str, limit: int, next_token: str | None,
             status: CommandStatus | None = None) -> Page[Command]:
        """The device's history, newest first, optionally one status only."""
        key = device_key(tenant_id, device_id)
        if status is CommandStatus.QUEUED:
            page = query_page(CommandModel, key, limit, next_token, index=CommandModel.queued_by_device,
                              scan_index_forward=False)
        else:
            # Another status is a filter: one page of the device's history, so the cost of a
            # request stays bounded however rare the status. The client follows next_token.
            page = query_page(CommandModel, key, limit, next_token, scan_index_forward=False,
                              filter_condition=None if status is None else CommandModel.status == status.value)
        return page.map(CommandModel.to_record)

    def pending(self, tenant_id: str, device_id: str, now: datetime, limit: int) -> list[Command]:
        """The device's queued, unexpired commands, oldest first (strongly consistent)."""
        result = CommandModel.queued_by_device.query(
            device_key(tenant_id, device_id), consistent_read=True, limit=limit, page_size=limit,
            filter_condition=CommandModel.expires_at > now,
        )
        return [m.to_record() for m in result]

    def expiry_candidates(self, shard: int, now: datetime, limit: int) -> list[ExpiryCandidate]:
        """Queued commands of a shard whose expires_at <= now, oldest first."""
        result = CommandModel.expiry_due.query(str(shard), CommandModel.expires_at <= now, limit=limit,
                                               page_size=min(limit, 500))
        return [ExpiryCandidate(CommandRef.of(m.device_key, m.command_id),
                                m.published_at is not None or m.fetched_at is not None) for m in result]

    def retry_candidates(self, shard: int, now: datetime, limit: int) -> list[RetryCandidate]:
        """Unpublished commands of a shard whose next attempt is due."""
        result = CommandModel.retry_due.query(str(shard), CommandModel.next_attempt_at <= now, limit=limit,
                                              page_size=min(limit, 500))
        return [RetryCandidate(CommandRef.of(m.device_key, m.command_id), m.next_attempt_at,
                               int(m.publish_attempts or 0)) for m in result]

    def awaiting_publish(self, tenant_id: str, cap: int = AWAITING_PUBLISH_CAP) -> int:
        """How many of a tenant's commands wait for a publish retry, counted up to `cap`.

        Read from the tenant's own partition of `retry_by_tenant`: during a broker outage the
        shared retry index holds every tenant's backlog, and counting there would read it all.
        At most `cap` index entries are read, however large the backlog.
        """
        # A Query of the keys, not count(): PynamoDB's count pages on past its limit.
        return sum(1 for _ in CommandModel.retry_by_tenant.query(tenant_id, limit=cap, page_size=cap))

    def publish_backlog(self, tenant_id: str) -> dict[str, Any]:
        """The detailed health's `command_queue`: the tenant's backlog, and whether it reached the cap."""
        backlog = self.awaiting_publish(tenant_id)
        return {"awaiting_publish": backlog, "capped": backlog >= AWAITING_PUBLISH_CAP}

    @property
    def shards(self) -> int:
        """How many shards the schedule indexes are spread over."""
        return self._shards

    # -- state changes ------------------------------------------------------------------

    def transition(self, ref: CommandRef, source: CommandStatus, event: CommandEvent, now: datetime,
                   ack_details: dict[str, Any] | None = None) -> Command | None:
        """Apply `event` if the command is still in `source`; None when another writer got there first."""
        target = TRANSITIONS[(source, event)]
        actions: list[Action] = [CommandModel.status.set(target.value)]
        condition: Condition = CommandModel.status == source.value
        if event is CommandEvent.ACKED:
            actions += [CommandModel.acked_at.set(now), CommandModel.ack_details.set(ack_details or {})]
            # Past its expiry a command is over even before the minute's sweep closes it.
            condition &= CommandModel.expires_at > now
        else:
            condition &= CommandModel.expires_at <= now
            seen = CommandModel.published_at.exists() | CommandModel.fetched_at.exists()
            condition &= seen if event is CommandEvent.EXPIRED_SEEN else ~seen
        if target in FINAL_STATUSES:
            actions += [*_leave_working_sets(), CommandModel.settled_tenant.set(ref.tenant_id),
                        CommandModel.settled_at.set(now)]
        return self._update(ref, actions, condition)

    def mark_published(self, ref: CommandRef, now: datetime) -> None:
        """The broker accepted the command: keep the first published_at.

        The retry index entry stays: the broker taking a message does not mean the device
        got it, so the retry goes on until an ACK, a fetch or the last attempt removes it.
        """
        self._update(ref, [CommandModel.published_at.set(CommandModel.published_at | now)],
                     # Delivered may already be set (the ACK can beat this write); `expired` means
                     # the expiry ruled it never left the cloud, and that record must stay true.
                     CommandModel.command_id.exists() & (CommandModel.status != CommandStatus.EXPIRED.value))

    def unmark_published(self, ref: CommandRef, published_at: datetime) -> None:
        """The broker refused a command written as published at `published_at`: it was not.

        Conditioned on that very time, so a later publish (a retry) that did reach the broker stays.
        """
        self._update(ref, [CommandModel.published_at.remove()],
                     (CommandModel.published_at == published_at) & (CommandModel.status == CommandStatus.QUEUED.value))

    def mark_fetched(self, ref: CommandRef, now: datetime) -> None:
        """A poll handed the command to the device: it counts as seen and needs no republish."""
        self._update(ref, [CommandModel.fetched_at.set(now), CommandModel.retry_shard.remove(),
                           CommandModel.next_attempt_at.remove()],
                     (CommandModel.status == CommandStatus.QUEUED.value) & CommandModel.fetched_at.does_not_exist())

    def claim_retry(self, candidate: RetryCandidate, now: datetime, next_attempt_at: datetime | None) -> Command | None:
        """Take one publish attempt; of concurrent claimers exactly one gets the command back.

        The condition pins the index values the claimer saw, and the update moves them,
        so a second claimer with the same view fails its condition.
        """
        actions: list[Action] = [CommandModel.publish_attempts.add(1)]
        if next_attempt_at is None:
            actions += [CommandModel.retry_shard.remove(), CommandModel.next_attempt_at.remove()]
        else:
            actions.append(CommandModel.next_attempt_at.set(next_attempt_at))
        condition = ((CommandModel.status == CommandStatus.QUEUED.value)
                     & (CommandModel.next_attempt_at == candidate.next_attempt_at)
                     & (CommandModel.publish_attempts == candidate.publish_attempts)
                     & (CommandModel.expires_at > now))
        return self._update(candidate.ref, actions, condition)

    def backdate_expiry(self, ref: CommandRef, expires_at: datetime) -> Command:
        """Move a queued command's expiry (developer tool): its expiry-index entry and purge time follow.

        Raises NotFound (no such command) or Conflict (no longer queued); nothing changes then.
        """
        # expires_at is the expiry index's range key; the shard puts the command in that index.
        actions: list[Action] = [CommandModel.expires_at.set(expires_at),
                                 CommandModel.expiry_shard.set(shard_of(ref.command_id, self._shards)),
                                 CommandModel.purge_at.set(expires_at + self._retention)]
        done = self._update(ref, actions, CommandModel.status == CommandStatus.QUEUED.value)
        if done is not None:
            return done
        current = self.get(ref)
        if current is None:
            raise NotFound(f"command {ref.command_id} not found", field="command_id")
        raise Conflict(f"command {ref.command_id} is {current.status.value}; only a queued command can be back-dated",
                       field="command_id", status=current.status.value)

    @staticmethod
    def _update(ref: CommandRef, actions: list[Action], condition: Condition) -> Command | None:
        model = CommandModel(device_key(ref.tenant_id, ref.device_id), ref.command_id)
        if not written(lambda: model.update(actions=actions, condition=condition)):
            return None
        return model.to_record()


def _leave_working_sets() -> list[Action]:
    """A final command leaves the pending, expiry and retry indexes."""
    return [CommandModel.queued_id.remove(), CommandModel.expiry_shard.remove(),
            CommandModel.retry_shard.remove(), CommandModel.next_attempt_at.remove()]
