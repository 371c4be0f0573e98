"""In-memory fakes of the command ports (CommandStore, DeviceDirectory) with the real conditions.

Each write checks what the DynamoDB repository's condition expression checks, so a service
under test meets the same refusals it meets in production: a status that moved on, an
expiry that passed, a client token already taken, a device that is missing or disabled.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.commands.models import CommandRef, ExpiryCandidate, RetryCandidate
from chalicelib.commands.ports import CommandStore, DeviceDirectory
from chalicelib.commands.schemas import FINAL_STATUSES, TRANSITIONS, Command, CommandEvent, CommandStatus
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.storage.cursors import Page
from chalicelib.core.storage.idempotency import ClientTokenTaken, IdempotencyClaim, IdempotencyRecord


@dataclass
class FakeDevices:
    """DeviceDirectory in memory: device id -> enabled."""

    enabled: dict[tuple[str, str], bool] = field(default_factory=dict)

    def add(self, tenant_id: str, device_id: str, enabled: bool = True) -> None:
        self.enabled[(tenant_id, device_id)] = enabled

    def exists(self, tenant_id: str, device_id: str) -> bool:
        return (tenant_id, device_id) in self.enabled


@dataclass
class Stored:
    """A command as the table holds it, with its schedule-index attributes."""

    command: Command
    next_attempt_at: datetime | None


class FakeCommandStore:
    """CommandStore in memory, checking the devices and client tokens like the transaction does."""

    def __init__(self, devices: FakeDevices) -> None:
        self.devices = devices
        self.items: dict[CommandRef, Stored] = {}
        self.claims: dict[str, IdempotencyRecord] = {}

    @property
    def shards(self) -> int:
        return 1

    def create(self, command: Command, retry_at: datetime | None, claim: IdempotencyClaim | None = None) -> None:
        if claim is not None and claim.key in self.claims:
            raise ClientTokenTaken(self.claims[claim.key])
        enabled = self.devices.enabled.get((command.tenant_id, command.device_id))
        if enabled is None:
            raise NotFound(f"device {command.device_id} not found", field="device_id")
        if not enabled:
            raise Conflict(f"device {command.device_id} is disabled", field="device_id")
        self.items[_ref(command)] = Stored(command, retry_at)
        if claim is not None:
            self.claims[claim.key] = IdempotencyRecord(claim.fingerprint, claim.resource_id, True, command.created_at)

    def create_many(self, commands: list[Command], retry_at: datetime | None) -> None:
        for command in commands:
            self.items[_ref(command)] = Stored(command, retry_at)

    def get(self, ref: CommandRef) -> Command | None:
        stored = self.items.get(ref)
        return stored.command if stored else None

    def history(self, tenant_id: str, device_id: str, limit: int, next_token: str | None,
                status: CommandStatus | None = None) -> Page[Command]:
        found = [s.command for s in self.items.values() if (s.command.tenant_id, s.command.device_id)
                 == (tenant_id, device_id) and status in (None, s.command.status)]
        return Page(sorted(found, key=lambda c: c.command_id, reverse=True)[:limit], None)

    def pending(self, tenant_id: str, device_id: str, now: datetime, limit: int) -> list[Command]:
        found = [s.command for s in self.items.values()
                 if (s.command.tenant_id, s.command.device_id) == (tenant_id, device_id)
                 and s.command.status is CommandStatus.QUEUED and s.command.expires_at > now]
        return sorted(found, key=lambda c: c.command_id)[:limit]

    def expiry_candidates(self, shard: int, now: datetime, limit: int) -> list[ExpiryCandidate]:
        due = [s.command for s in self.items.values()
               if s.command.status is CommandStatus.QUEUED and s.command.expires_at <= now]
        return [ExpiryCandidate(_ref(c), c.published_at is not None or c.fetched_at is not None)
                for c in sorted(due, key=lambda c: c.expires_at)[:limit]]

    def retry_candidates(self, shard: int, now: datetime, limit: int) -> list[RetryCandidate]:
        return [RetryCandidate(ref, s.next_attempt_at, s.command.publish_attempts)
                for ref, s in self.items.items()
                if s.next_attempt_at is not None and s.next_attempt_at <= now][:limit]

    def transition(self, ref: CommandRef, source: CommandStatus, event: CommandEvent, now: datetime,
                   ack_details: dict[str, Any] | None = None) -> Command | None:
        stored = self.items.get(ref)
        if stored is None or stored.command.status is not source:
            return None
        command = stored.command
        seen = command.published_at is not None or command.fetched_at is not None
        update: dict[str, Any] = {"status": TRANSITIONS[(source, event)]}
        if event is CommandEvent.ACKED:
            if command.expires_at <= now:
                return None
            update |= {"acked_at": now, "ack_details": ack_details or {}}
        elif command.expires_at > now or seen is not (event is CommandEvent.EXPIRED_SEEN):
            return None
        stored.command = command.model_copy(update=update)
        if stored.command.status in FINAL_STATUSES:
            stored.next_attempt_at = None
        return stored.command

    def mark_published(self, ref: CommandRef, now: datetime) -> None:
        stored = self.items.get(ref)
        if stored is not None and stored.command.status is not CommandStatus.EXPIRED:
            stored.command = stored.command.model_copy(update={"published_at": stored.command.published_at or now})

    def unmark_published(self, ref: CommandRef, published_at: datetime) -> None:
        stored = self.items.get(ref)
        if (stored is not None and stored.command.status is CommandStatus.QUEUED
                and stored.command.published_at == published_at):
            stored.command = stored.command.model_copy(update={"published_at": None})

    def mark_fetched(self, ref: CommandRef, now: datetime) -> None:
        stored = self.items.get(ref)
        if stored is not None and stored.command.status is CommandStatus.QUEUED and stored.command.fetched_at is None:
            stored.command = stored.command.model_copy(update={"fetched_at": now})
            stored.next_attempt_at = None

    def claim_retry(self, candidate: RetryCandidate, now: datetime, next_attempt_at: datetime | None) -> Command | None:
        stored = self.items.get(candidate.ref)
        if (stored is None or stored.command.status is not CommandStatus.QUEUED
                or stored.next_attempt_at != candidate.next_attempt_at
                or stored.command.publish_attempts != candidate.publish_attempts or stored.command.expires_at <= now):
            return None
        stored.command = stored.command.model_copy(update={"publish_attempts": candidate.publish_attempts + 1})
        stored.next_attempt_at = next_attempt_at
        return stored.command


def _ref(command: Command) -> CommandRef:
    return CommandRef(command.tenant_id, command.device_id, command.command_id)


# The fakes are the ports: mypy checks them against the Protocols here, not only at a call site.
_store: type[CommandStore] = FakeCommandStore
_devices: type[DeviceDirectory] = FakeDevices
