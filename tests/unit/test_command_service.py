"""CommandService, DeviceCommandService, CommandDispatcher and CommandExpiry over in-memory ports.

The fakes stand in for storage and the broker (our ports); the services and the state machine
under test are the real ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.commands.delivery import CommandDispatcher, CommandExpiry
from chalicelib.commands.device_service import DeviceCommandService
from chalicelib.commands.models import CommandRef
from chalicelib.commands.schemas import AckCommand, Command, CommandStatus, CreateCommand
from chalicelib.commands.service import CommandService
from chalicelib.core.errors import Conflict, InvalidInput, NotFound
from chalicelib.core.messaging.base import RecordingPublisher
from chalicelib.core.policies import CommandPolicy
from chalicelib.core.storage.idempotency import IdempotencyStore
from tests.support import Clock
from tests.unit.command_fakes import FakeCommandStore, FakeDevices

T, D = "t1", "d1"
T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
POLICY = CommandPolicy(ttl_default=timedelta(minutes=60), ttl_max=timedelta(days=1), max_attempts=3,
                       retry_interval=timedelta(seconds=30))


@dataclass
class Commands:
    """The command services wired over one store, one publisher and one clock."""

    store: FakeCommandStore
    devices: FakeDevices
    publisher: RecordingPublisher
    clock: Clock
    service: CommandService
    device: DeviceCommandService
    dispatcher: CommandDispatcher
    expiry: CommandExpiry

    def send(self, device_id: str = D, **request: object) -> Command:
        return self.service.create(T, device_id, CreateCommand.model_validate({"command_type": "ping", **request}),
                                   created_by="op")

    def stored(self, command: Command) -> Command:
        found = self.store.get(CommandRef(T, command.device_id, command.command_id))
        assert found is not None
        return found


@pytest.fixture
def commands() -> Commands:
    devices = FakeDevices()
    devices.add(T, D)
    store = FakeCommandStore(devices)
    publisher, clock = RecordingPublisher(), Clock(T0)
    dispatcher = CommandDispatcher(store, publisher, POLICY, clock)
    service = CommandService(store, IdempotencyStore(), devices, dispatcher, POLICY, clock)
    return Commands(store, devices, publisher, clock, service, DeviceCommandService(store, POLICY, clock),
                    dispatcher, CommandExpiry(store, POLICY))


# -- creation and publish ------------------------------------------------------------------

def test_a_new_command_is_stored_queued_and_published_to_its_device_at_once(commands: Commands) -> None:
    # When the operator sends a ping
    sent = commands.send(command_params={})
    # Then it is queued, published on the device's command topic, and expires after the default TTL
    assert sent.status is CommandStatus.QUEUED and sent.mqtt_published and sent.published_at == T0
    assert sent.expires_at == T0 + POLICY.ttl_default
    [message] = commands.publisher.sent
    assert message.topic == f"tenant/{T}/device/{D}/commands" and message.qos == 1 and not message.retain
    assert message.payload is not None and message.payload["command_id"] == sent.command_id
    assert commands.stored(sent).published_at == T0


class TickingClock(Clock):
    """A clock that moves on by a millisecond at every reading, as a real one does between two calls."""

    def __call__(self) -> datetime:
        return self.advance(milliseconds=1)


def test_the_answer_shows_the_published_at_that_was_stored() -> None:
    # Given a clock that moves between readings
    devices = FakeDevices()
    devices.add(T, D)
    store, clock = FakeCommandStore(devices), TickingClock(T0)
    dispatcher = CommandDispatcher(store, RecordingPublisher(), POLICY, clock)
    service = CommandService(store, IdempotencyStore(), devices, dispatcher, POLICY, clock)
    # When a command is sent and published
    sent = service.create(T, D, CreateCommand.model_validate({"command_type": "ping"}), created_by="op")
    # Then the POST's answer and a later GET say the same publish time
    stored = store.get(CommandRef(T, D, sent.command_id))
    assert stored is not None and sent.published_at is not None
    assert sent.published_at == stored.published_at


def test_a_command_the_broker_refuses_stays_queued_for_the_retry(commands: Commands) -> None:
    # Given a broker that is down
    commands.publisher.reachable = False
    # When a command is sent
    sent = commands.send()
    # Then it is accepted, not published, and due for the retry after the interval
    assert sent.status is CommandStatus.QUEUED and not sent.mqtt_published
    assert commands.store.items[CommandRef(T, D, sent.command_id)].next_attempt_at == T0 + POLICY.retry_interval


def test_a_command_for_an_unknown_device_is_not_found_and_a_disabled_one_conflicts(commands: Commands) -> None:
    commands.devices.add(T, "off", enabled=False)
    with pytest.raises(NotFound) as missing:
        commands.send("ghost")
    assert missing.value.field == "device_id"
    with pytest.raises(Conflict):
        commands.send("off")
    assert commands.store.items == {} and commands.publisher.sent == []


def test_an_expiry_beyond_the_maximum_is_rejected_naming_the_field(commands: Commands) -> None:
    with pytest.raises(InvalidInput) as refused:
        commands.send(expires_in_minutes=24 * 60 + 1)
    assert refused.value.field == "expires_in_minutes"
    assert commands.send(expires_in_minutes=24 * 60).expires_at == T0 + timedelta(days=1)


# -- idempotency ---------------------------------------------------------------------------

def test_repeating_a_client_token_returns_the_original_command_without_a_second_publish(commands: Commands) -> None:
    # Given a command sent with a client token
    first = commands.send(client_token="tok-1")
    # When the same request is repeated a minute later
    commands.clock.advance(minutes=1)
    again = commands.send(client_token="tok-1")
    # Then the original comes back and nothing new is stored or published
    assert again.command_id == first.command_id
    assert len(commands.store.items) == 1 and len(commands.publisher.sent) == 1


def test_a_client_token_reused_for_a_different_request_is_a_conflict(commands: Commands) -> None:
    first = commands.send(client_token="tok-1")
    with pytest.raises(Conflict) as reused:
        commands.send(client_token="tok-1", expires_in_minutes=10)
    assert reused.value.field == "client_token" and reused.value.extra["command_id"] == first.command_id
    assert len(commands.store.items) == 1


# -- acknowledgement -----------------------------------------------------------------------

def test_an_ack_delivers_the_command_and_repeating_it_is_harmless(commands: Commands) -> None:
    sent = commands.send()
    ack = AckCommand(status="ok", details={"message": "pong"})
    # When the device ACKs twice (an MQTT redelivery)
    assert commands.device.acknowledge(T, D, sent.command_id, ack).acknowledged
    assert commands.device.acknowledge(T, D, sent.command_id, ack).acknowledged
    # Then the command is delivered once, with the device's details
    stored = commands.stored(sent)
    assert stored.status is CommandStatus.DELIVERED and stored.acked_at == T0
    assert stored.ack_details == {"status": "ok", "details": {"message": "pong"}}


def test_a_different_ack_of_a_delivered_command_is_a_conflict(commands: Commands) -> None:
    sent = commands.send()
    commands.device.acknowledge(T, D, sent.command_id, AckCommand(status="ok"))
    with pytest.raises(Conflict) as late:
        commands.device.acknowledge(T, D, sent.command_id, AckCommand(status="failed"))
    assert late.value.extra["status"] == "delivered"


def test_ack_after_expiry_is_rejected(commands: Commands) -> None:
    # Given a command whose expiry has passed but which the sweep has not closed yet
    sent = commands.send(expires_in_minutes=5)
    commands.clock.advance(minutes=5)
    # When the device ACKs it
    with pytest.raises(Conflict) as expired:
        commands.device.acknowledge(T, D, sent.command_id, AckCommand(status="ok"))
    # Then the ACK is refused as expired and the command stays queued for the sweep
    assert "expired" in expired.value.message
    assert commands.stored(sent).status is CommandStatus.QUEUED


def test_an_ack_for_another_tenants_or_a_malformed_command_id_is_not_found(commands: Commands) -> None:
    sent = commands.send()
    with pytest.raises(NotFound):
        commands.device.acknowledge("t2", D, sent.command_id, AckCommand(status="ok"))
    with pytest.raises(NotFound):
        commands.device.acknowledge(T, D, "not an id", AckCommand(status="ok"))
    assert commands.stored(sent).status is CommandStatus.QUEUED


# -- polling, retry and expiry -------------------------------------------------------------

def test_a_poll_hands_over_the_queued_commands_oldest_first_and_stops_their_retry(commands: Commands) -> None:
    commands.publisher.reachable = False
    first = commands.send()
    commands.clock.advance(seconds=1)
    second = commands.send()
    # When the device polls
    pending = commands.device.pending(T, D)
    # Then both come back, oldest first, marked fetched, and no longer due for a republish
    assert [c.command_id for c in pending] == [first.command_id, second.command_id]
    assert all(c.fetched_at == commands.clock.now for c in pending)
    commands.clock.advance(minutes=1)
    assert commands.dispatcher.retry_due(commands.clock.now).due == 0


def test_the_retry_republishes_a_due_command_until_its_attempts_run_out(commands: Commands) -> None:
    # Given a command whose first publish failed
    commands.publisher.reachable = False
    sent = commands.send()
    commands.publisher.reachable = True
    # When the retry runs after each interval
    reports = []
    for _ in range(3):
        commands.clock.advance(seconds=30)
        reports.append(commands.dispatcher.retry_due(commands.clock.now))
    # Then attempts 2 and 3 are published, and a third run finds nothing left to try
    assert [r.published for r in reports] == [1, 1, 0]
    assert commands.stored(sent).publish_attempts == POLICY.max_attempts
    assert len(commands.publisher.sent) == 2


def test_expiry_closes_a_seen_command_as_missed_and_an_unseen_one_as_expired(commands: Commands) -> None:
    # Given one command the broker took and one it never did
    seen = commands.send(expires_in_minutes=5)
    commands.publisher.reachable = False
    unseen = commands.send(expires_in_minutes=5)
    # When the expiry runs past their expiry
    report = commands.expiry.expire_due(T0 + timedelta(minutes=5))
    # Then the published one is missed, the other expired, and both are final
    assert (report.due, report.missed, report.expired) == (2, 1, 1)
    assert commands.stored(seen).status is CommandStatus.MISSED
    assert commands.stored(unseen).status is CommandStatus.EXPIRED


def test_expiry_leaves_a_command_that_is_not_due_yet(commands: Commands) -> None:
    sent = commands.send(expires_in_minutes=5)
    report = commands.expiry.expire_due(T0 + timedelta(minutes=4))
    assert report.due == 0 and commands.stored(sent).status is CommandStatus.QUEUED
