"""The command state machine is data: these tests read the transition table."""
from __future__ import annotations

import pytest

from chalicelib.commands.schemas import (
    FINAL_STATUSES,
    TRANSITIONS,
    CommandEvent,
    CommandStatus,
    next_status,
)


def test_command_statuses_are_exactly_the_seed_four() -> None:
    assert {s.value for s in CommandStatus} == {"queued", "delivered", "missed", "expired"}
    assert "in_progress" not in {s.value for s in CommandStatus}


def test_only_queued_commands_can_change() -> None:
    assert {source for source, _ in TRANSITIONS} == {CommandStatus.QUEUED}
    assert frozenset({CommandStatus.DELIVERED, CommandStatus.MISSED, CommandStatus.EXPIRED}) == FINAL_STATUSES


def test_an_ack_delivers_a_queued_command() -> None:
    assert next_status(CommandStatus.QUEUED, CommandEvent.ACKED) is CommandStatus.DELIVERED


def test_expiry_is_missed_when_the_command_reached_the_device_and_expired_when_it_never_left() -> None:
    assert next_status(CommandStatus.QUEUED, CommandEvent.EXPIRED_SEEN) is CommandStatus.MISSED
    assert next_status(CommandStatus.QUEUED, CommandEvent.EXPIRED_UNSEEN) is CommandStatus.EXPIRED


@pytest.mark.parametrize("final", sorted(FINAL_STATUSES))
@pytest.mark.parametrize("event", list(CommandEvent))
def test_final_statuses_accept_no_event(final: CommandStatus, event: CommandEvent) -> None:
    assert next_status(final, event) is None


def test_the_table_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        TRANSITIONS[(CommandStatus.DELIVERED, CommandEvent.ACKED)] = CommandStatus.QUEUED  # type: ignore[index]
