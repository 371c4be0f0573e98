"""The WelcomeSender adapter over the command channel's CommandService."""
from __future__ import annotations

import math
from datetime import datetime
from typing import Protocol

from chalicelib.commands.schemas import Command, CreateCommand
from chalicelib.core.clock import Clock, parse_iso, utcnow
from chalicelib.sites.schemas import WELCOME_COMMAND
from chalicelib.sites.welcome import WakeParams

# A device may sleep until its next wake before it fetches commands: keep the welcome
# alive that long plus this margin (never shorter than the channel's default TTL).
WAKE_GRACE_MIN = 60


class CommandCreator(Protocol):
    """The command channel's CommandService, as far as the welcome needs it."""

    def create(self, tenant_id: str, device_id: str, request: CreateCommand, created_by: str) -> Command:
        """Queue one command and publish it."""
        ...

    def create_many(self, tenant_id: str, items: list[tuple[str, CreateCommand]], created_by: str) -> list[Command]:
        """Queue one command per (device_id, request) and publish them together."""
        ...


class CommandWelcomeSender:
    """Queues set_wake_schedule as ordinary commands: published at once, retried, expired."""

    def __init__(self, commands: CommandCreator, default_ttl_min: int, max_ttl_min: int, clock: Clock = utcnow) -> None:
        self._commands = commands
        self._default_ttl = default_ttl_min
        self._max_ttl = max_ttl_min
        self._clock = clock

    def send(self, tenant_id: str, device_id: str, params: WakeParams, created_by: str) -> str | None:
        """Queue one welcome; returns the command id."""
        command = self._commands.create(tenant_id, device_id, self._request(params), created_by=created_by)
        return str(command.command_id)

    def send_many(self, tenant_id: str, items: list[tuple[str, WakeParams]], created_by: str) -> list[str]:
        """Queue one welcome per device through the channel's batch writer."""
        requests = [(device_id, self._request(params)) for device_id, params in items]
        created = self._commands.create_many(tenant_id, requests, created_by=created_by)
        return [str(c.command_id) for c in created]

    def _request(self, params: WakeParams) -> CreateCommand:
        return CreateCommand(command_type=WELCOME_COMMAND, command_params=params,
                             expires_in_minutes=self._ttl(parse_iso(params.get("next_wake_at"))))

    def _ttl(self, next_wake_at: datetime | None) -> int:
        if next_wake_at is None:
            return self._default_ttl
        until_wake = math.ceil((next_wake_at - self._clock()).total_seconds() / 60)
        return max(self._default_ttl, min(self._max_ttl, until_wake + WAKE_GRACE_MIN))
