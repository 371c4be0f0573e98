"""Operator use cases of commands: send one or many, read one, list a device's history."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ulid import ULID

from chalicelib.commands.delivery import CommandDispatcher, CommandPolicy
from chalicelib.commands.models import CommandRef
from chalicelib.commands.params import check_params
from chalicelib.commands.ports import CommandStore, DeviceDirectory
from chalicelib.commands.schemas import Command, CommandStatus, CreateCommand
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.delivery import DocumentResolver, NoReferences
from chalicelib.core.errors import Conflict, InvalidInput, NotFound, Unavailable
from chalicelib.core.ids import is_valid_id
from chalicelib.core.observability.log import logger
from chalicelib.core.observability.metrics import metrics
from chalicelib.core.storage.cursors import Page
from chalicelib.core.storage.idempotency import (
    ClientTokenTaken,
    IdempotencyClaim,
    IdempotencyRecord,
    IdempotencyStore,
    fingerprint,
)

IDEMPOTENCY_SCOPE = "commands"


class CommandService:
    """Creates commands (stored queued, then published at once) and reads them back."""

    def __init__(self, commands: CommandStore, idempotency: IdempotencyStore, devices: DeviceDirectory,
                 dispatcher: CommandDispatcher, policy: CommandPolicy, clock: Clock = utcnow,
                 references: DocumentResolver | None = None) -> None:
        self._commands = commands
        self._references = references or NoReferences()
        self._idempotency = idempotency
        self._devices = devices
        self._dispatcher = dispatcher
        self._policy = policy
        self._clock = clock

    def create(self, tenant_id: str, device_id: str, request: CreateCommand, created_by: str) -> Command:
        """Queue one command and publish it now; a repeated client_token returns the original.

        404 for an unknown device, 409 for a disabled one or a client_token reused with a
        different request. A failed publish is not an error: the command stays queued and
        the retry schedule takes over (`mqtt_published` is false).
        """
        ttl = self._check(request)
        now = self._clock()
        command = self._new(tenant_id, device_id, request, created_by, now, ttl)
        self._references.hold(tenant_id, request.command_params, command.expires_at, "command_params")
        claim = None
        if request.client_token:
            claim = IdempotencyClaim(
                scope=IDEMPOTENCY_SCOPE,
                tenant_id=tenant_id,
                client_token=request.client_token,
                fingerprint=_fingerprint(device_id, request),
                resource_id=command.command_id,
                expires_at=now + self._policy.idempotency_ttl,
            )
        try:
            self._commands.create(command, self._policy.next_attempt(now, 1), claim)
        except ClientTokenTaken as taken:
            assert claim is not None  # only a claim can be taken
            replayed = self._replay(tenant_id, device_id, claim, taken.record)
            logger.info("command replayed", tenant=tenant_id, device=device_id, command_id=replayed.command_id,
                        outcome="replayed")
            return replayed
        metrics.count("CommandsCreated")
        logger.info("command created", tenant=tenant_id, device=device_id, command_id=command.command_id,
                    command_type=command.command_type, outcome="queued")
        return self._dispatcher.dispatch([command])[0]

    def create_many(self, tenant_id: str, items: list[tuple[str, CreateCommand]], created_by: str) -> list[Command]:
        """Queue one command per (device_id, request) with batch writes, then publish them together.

        For fan-outs whose caller has just checked the devices (a site mapping, a bulk
        action): devices are not re-read one by one, and client tokens are not supported.
        """
        now = self._clock()
        commands = []
        for index, (device_id, request) in enumerate(items):
            if request.client_token:
                raise InvalidInput("client_token is not supported in batches", field="client_token", index=index)
            try:
                ttl = self._check(request)
            except InvalidInput as exc:
                raise InvalidInput(exc.message, field=exc.field, index=index, **exc.extra) from exc
            commands.append(self._new(tenant_id, device_id, request, created_by, now, ttl))
        for command in commands:
            self._references.hold(tenant_id, command.command_params, command.expires_at, "command_params")
        self._commands.create_many(commands, self._policy.next_attempt(now, 1))
        metrics.count("CommandsCreated", len(commands))
        logger.info("commands created", tenant=tenant_id, count=len(commands), outcome="queued")
        return self._dispatcher.dispatch(commands)

    def create_for_batch(self, tenant_id: str, batch: BatchRef, device_ids: list[str], request: CreateCommand,
                         created_by: str) -> list[Command]:
        """Queue one command per device of a group or site batch with batch writes, then publish them.

        Ids come from the batch and the device, so a chunk redone after a crash writes the
        same commands again instead of second ones. Each is written with the time of the
        publish round that follows at once, so recording the outcome costs no write per
        command; the few the broker refuses are unmarked. The caller has checked the devices.
        """
        now = self._clock()
        commands = self.batch_commands(tenant_id, batch, device_ids, request, created_by, published_at=now)
        self._references.hold(tenant_id, request.command_params, batch.expires_at, "command_params")
        started = time.monotonic()
        self._commands.create_many(commands, self._policy.next_attempt(now, 1))
        written = time.monotonic()
        sent = self._dispatcher.dispatch_written(commands)
        metrics.count("CommandsCreated", len(commands))
        logger.info("batch commands created", batch_id=batch.batch_id, count=len(commands),
                    write_s=round(written - started, 3), publish_s=round(time.monotonic() - written, 3),
                    outcome="queued")
        return sent

    @staticmethod
    def batch_commands(tenant_id: str, batch: BatchRef, device_ids: list[str], request: CreateCommand,
                       created_by: str, published_at: datetime | None = None) -> list[Command]:
        """The commands of a batch for these devices, as written (ids stable per batch and device)."""
        return [
            Command(command_id=batch_command_id(batch, device_id), tenant_id=tenant_id, device_id=device_id,
                    command_type=request.command_type, command_params=request.command_params,
                    status=CommandStatus.QUEUED, created_at=batch.created_at, created_by=created_by,
                    expires_at=batch.expires_at, publish_attempts=1, batch_id=batch.batch_id,
                    published_at=published_at)
            for device_id in device_ids
        ]

    def expiry_of(self, request: CreateCommand, now: datetime) -> datetime:
        """When a command of this request, sent now, expires; a 400 naming the field if it could not be sent."""
        return now + self._check(request)

    def get(self, tenant_id: str, device_id: str, command_id: str) -> Command:
        """One command of the tenant's device (404 for a foreign or missing one)."""
        found = self._commands.get(CommandRef(tenant_id, device_id, command_id)) if is_valid_id(command_id) else None
        if found is None:
            raise NotFound(f"command {command_id} not found", field="command_id")
        return found

    def history(self, tenant_id: str, device_id: str, limit: int, next_token: str | None,
             status: CommandStatus | None = None) -> Page[Command]:
        """The device's commands, newest first, optionally only one status."""
        if not self._devices.exists(tenant_id, device_id):
            raise NotFound(f"device {device_id} not found", field="device_id")
        return self._commands.history(tenant_id, device_id, limit, next_token, status)

    def _check(self, request: CreateCommand) -> timedelta:
        check_params(request.command_type, request.command_params)
        if request.expires_in_minutes is None:
            return self._policy.ttl_default
        # Compare minutes before building a timedelta: an absurd value would overflow it.
        limit = int(self._policy.ttl_max.total_seconds() // 60)
        if request.expires_in_minutes > limit:
            raise InvalidInput(f"expires_in_minutes: at most {limit}", field="expires_in_minutes", limit=limit)
        ttl = timedelta(minutes=request.expires_in_minutes)
        return ttl

    def _new(self, tenant_id: str, device_id: str, request: CreateCommand, created_by: str,
             now: datetime, ttl: timedelta) -> Command:
        return Command(
            # Minted from the service clock so ids sort like created_at, also under a test clock.
            command_id=str(ULID.from_datetime(now)).lower(),
            tenant_id=tenant_id,
            device_id=device_id,
            command_type=request.command_type,
            command_params=request.command_params,
            status=CommandStatus.QUEUED,
            created_at=now,
            created_by=created_by,
            expires_at=now + ttl,
            # The publish right after the write is the first attempt.
            publish_attempts=1,
        )

    def _replay(self, tenant_id: str, device_id: str, claim: IdempotencyClaim,
                record: IdempotencyRecord | None) -> Command:
        if record is None:
            # Taken a moment ago and gone now: nothing sensible to return, let the client retry.
            raise Unavailable("client_token is being used concurrently; retry", field="client_token")
        if record.fingerprint != claim.fingerprint:
            raise Conflict("client_token was already used for a different request", field="client_token",
                           command_id=record.resource_id)
        # Same fingerprint, so the same device: the fingerprint covers the device id.
        original = self._commands.get(CommandRef(tenant_id, device_id, record.resource_id))
        if original is None:
            raise Conflict("the command of this client_token no longer exists", field="client_token")
        return original


@dataclass(frozen=True)
class BatchRef:
    """What the commands of one batch share: its id, creation and expiry."""

    batch_id: str
    created_at: datetime
    expires_at: datetime


def batch_command_id(batch: BatchRef, device_id: str) -> str:
    """A ULID with the batch's time and randomness from (batch, device): stable across redone chunks."""
    millis = int(batch.created_at.timestamp() * 1000)
    entropy = hashlib.sha256(f"{batch.batch_id}#{device_id}".encode()).digest()[:10]
    return str(ULID.from_bytes(millis.to_bytes(6, "big") + entropy)).lower()


def _fingerprint(device_id: str, request: CreateCommand) -> str:
    body: dict[str, Any] = request.model_dump(mode="json", exclude={"client_token"})
    return fingerprint({"device_id": device_id, **body})
