"""What the command services need from storage: the repository's shape, so tests can give them a fake."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from chalicelib.commands.models import CommandRef, ExpiryCandidate, RetryCandidate
from chalicelib.commands.schemas import Command, CommandEvent, CommandStatus
from chalicelib.core.storage.cursors import Page
from chalicelib.core.storage.idempotency import IdempotencyClaim


class CommandStore(Protocol):
    """Commands: created queued, read back, moved along the state machine by conditional writes."""

    @property
    def shards(self) -> int:
        """How many shards the schedule indexes are spread over."""
        ...

    def create(self, command: Command, retry_at: datetime | None, claim: IdempotencyClaim | None = None) -> None:
        """Store a queued command (raises ClientTokenTaken when the claim's token is taken)."""
        ...

    def create_many(self, commands: list[Command], retry_at: datetime | None) -> None:
        """Store many queued commands."""
        ...

    def get(self, ref: CommandRef) -> Command | None:
        """One command, or None."""
        ...

    def history(self, tenant_id: str, device_id: str, limit: int, next_token: str | None,
                status: CommandStatus | None = None) -> Page[Command]:
        """The device's commands, newest first."""
        ...

    def pending(self, tenant_id: str, device_id: str, now: datetime, limit: int) -> list[Command]:
        """The device's queued, unexpired commands, oldest first."""
        ...

    def expiry_candidates(self, shard: int, now: datetime, limit: int) -> list[ExpiryCandidate]:
        """Queued commands of a shard whose expires_at <= now."""
        ...

    def retry_candidates(self, shard: int, now: datetime, limit: int) -> list[RetryCandidate]:
        """Commands of a shard whose next publish attempt is due."""
        ...

    def transition(self, ref: CommandRef, source: CommandStatus, event: CommandEvent, now: datetime,
                   ack_details: dict[str, Any] | None = None) -> Command | None:
        """Apply `event` if the command is still in `source`; None when another writer got there first."""
        ...

    def mark_published(self, ref: CommandRef, now: datetime) -> None:
        """The broker accepted the command."""
        ...

    def unmark_published(self, ref: CommandRef, published_at: datetime) -> None:
        """The broker refused a command stored as published at `published_at`."""
        ...

    def mark_fetched(self, ref: CommandRef, now: datetime) -> None:
        """A poll handed the command to the device."""
        ...

    def claim_retry(self, candidate: RetryCandidate, now: datetime, next_attempt_at: datetime | None) -> Command | None:
        """Take one publish attempt; None when another claimer got it."""
        ...


class DeviceDirectory(Protocol):
    """Whether a tenant has a device."""

    def exists(self, tenant_id: str, device_id: str) -> bool:
        """True when the tenant has this device."""
        ...
