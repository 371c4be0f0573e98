"""The welcome adapter: set_wake_schedule requests that live until the device's next wake."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from chalicelib.commands.schemas import Command, CreateCommand
from chalicelib.sites.welcome_commands import WAKE_GRACE_MIN, CommandWelcomeSender
from tests.support import Clock

NOW = datetime(2025, 3, 29, 12, 0, tzinfo=UTC)


@dataclass
class FakeCommands:
    """Records what the command channel was asked to queue."""

    requests: list[tuple[str, CreateCommand]] = field(default_factory=list)

    def create(self, tenant_id: str, device_id: str, request: CreateCommand, created_by: str) -> Command:
        self.requests.append((device_id, request))
        return _command(tenant_id, device_id, request, f"c{len(self.requests)}")

    def create_many(self, tenant_id: str, items: list[tuple[str, CreateCommand]], created_by: str) -> list[Command]:
        self.requests += items
        return [_command(tenant_id, device_id, request, f"c{i}") for i, (device_id, request) in enumerate(items)]


def _command(tenant_id: str, device_id: str, request: CreateCommand, command_id: str) -> Command:
    return Command(command_id=command_id, tenant_id=tenant_id, device_id=device_id,
                   command_type=request.command_type, command_params=request.command_params, created_at=NOW,
                   expires_at=NOW + timedelta(minutes=request.expires_in_minutes or 60))


def sender(commands: FakeCommands) -> CommandWelcomeSender:
    return CommandWelcomeSender(commands, default_ttl_min=60, max_ttl_min=7 * 24 * 60,
                                clock=Clock(NOW))


def test_welcome_is_a_set_wake_schedule_that_outlives_the_next_wake() -> None:
    commands = FakeCommands()
    params = {"cron": "0 6 * * *", "timezone": "Europe/Berlin", "next_wake_at": "2025-03-30T04:00:00Z"}
    assert sender(commands).send("t", "cam-1", params, "op") == "c1"
    [(device_id, request)] = commands.requests
    assert device_id == "cam-1" and request.command_type == "set_wake_schedule" and request.command_params == params
    assert request.expires_in_minutes == 16 * 60 + WAKE_GRACE_MIN


def test_welcome_ttl_is_bounded_by_the_channel_default_and_maximum() -> None:
    commands = FakeCommands()
    soon = {"next_wake_at": "2025-03-29T12:05:00Z"}
    far = {"next_wake_at": "2025-06-01T00:00:00Z"}
    ids = sender(commands).send_many("t", [("a", soon), ("b", far), ("c", {})], "op")
    assert ids == ["c0", "c1", "c2"]
    assert [r.expires_in_minutes for _, r in commands.requests] == [65, 7 * 24 * 60, 60]
