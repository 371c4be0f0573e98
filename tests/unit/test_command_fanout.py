"""A batch's commands carry their publish outcome in their own batch write; handed-over walks start now."""
from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.commands.delivery import CommandDispatcher
from chalicelib.commands.models import CommandRef
from chalicelib.commands.schemas import CreateCommand
from chalicelib.commands.service import BatchRef, CommandService
from chalicelib.core.background import LambdaKick, ThreadKick
from chalicelib.core.clock import event_time
from chalicelib.core.messaging.base import Message, RecordingPublisher
from chalicelib.core.storage.idempotency import IdempotencyStore
from tests.support import Clock
from tests.unit.command_fakes import FakeCommandStore, FakeDevices
from tests.unit.test_command_service import POLICY

T = "t1"
T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
BATCH = BatchRef("01jbatch", T0, T0 + timedelta(hours=1))


class RefusingPublisher(RecordingPublisher):
    """The broker takes every message but those to `refused` devices."""

    def __init__(self, refused: set[str]) -> None:
        super().__init__()
        self.refused = refused

    def publish(self, message: Message) -> bool:
        if message.topic.split("/")[3] in self.refused:
            return False
        return super().publish(message)


class CountingStore(FakeCommandStore):
    """The fake store, counting per-command publish writes (what a fan-out must not make)."""

    def __init__(self, devices: FakeDevices) -> None:
        super().__init__(devices)
        self.marks = 0
        self.unmarks = 0

    def mark_published(self, ref: CommandRef, now: datetime) -> None:
        self.marks += 1
        super().mark_published(ref, now)

    def unmark_published(self, ref: CommandRef, published_at: datetime) -> None:
        self.unmarks += 1
        super().unmark_published(ref, published_at)


def _service(publisher: RecordingPublisher) -> tuple[CommandService, CountingStore]:
    store = CountingStore(FakeDevices())
    clock = Clock(T0)
    dispatcher = CommandDispatcher(store, publisher, POLICY, clock)
    return CommandService(store, IdempotencyStore(), FakeDevices(), dispatcher, POLICY, clock), store


def test_a_batch_chunk_is_written_published_with_no_write_per_command() -> None:
    # Given a broker that takes everything
    service, store = _service(RecordingPublisher())
    # When a chunk of 50 commands is sent
    sent = service.create_for_batch(T, BATCH, [f"d-{i}" for i in range(50)], CreateCommand(command_type="ping"), "op")
    # Then each is stored with the publish round's time, and no per-command write followed
    assert all(c.published_at == T0 for c in sent)
    stored = [store.get(CommandRef(T, c.device_id, c.command_id)) for c in sent]
    assert all(c is not None and c.published_at == T0 for c in stored)
    assert (store.marks, store.unmarks) == (0, 0)


def test_a_command_the_broker_refused_is_stored_as_not_published() -> None:
    # Given a broker that refuses d-1's message
    service, store = _service(RefusingPublisher({"d-1"}))
    # When a chunk of three is sent
    sent = {c.device_id: c for c in service.create_for_batch(T, BATCH, ["d-0", "d-1", "d-2"],
                                                              CreateCommand(command_type="ping"), "op")}
    # Then only d-1 reads as unpublished (answer and store alike), at the cost of one write
    stored = {d: store.get(CommandRef(T, d, c.command_id)) for d, c in sent.items()}
    assert [d for d, c in sent.items() if c.published_at is None] == ["d-1"]
    assert [d for d, c in stored.items() if c is not None and c.published_at is None] == ["d-1"]
    assert store.unmarks == 1


def test_kicks_during_a_run_queue_exactly_one_more_run() -> None:
    # Given background work that blocks until released
    release, started, runs = threading.Event(), threading.Event(), []

    def work() -> None:
        runs.append(1)
        started.set()
        release.wait(5)

    kick = ThreadKick(work, "test-kick")
    kick()
    assert started.wait(5)
    # When it is kicked three times while running
    kick(), kick(), kick()
    release.set()
    # Then one more run follows, and then none
    for _ in range(500):
        if not kick.running:
            break
        threading.Event().wait(0.01)
    assert not kick.running and len(runs) == 2


class FakeLambda:
    """What an asynchronous invoke was asked to do."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"StatusCode": 202}


def test_the_lambda_kick_invokes_the_function_asynchronously_with_a_schedule_event_of_now() -> None:
    client = FakeLambda()
    LambdaKick("fleet-prod-command_batches", "eu-west-1", client)()
    [call] = client.calls
    assert (call["FunctionName"], call["InvocationType"]) == ("fleet-prod-command_batches", "Event")
    from chalice.app import CloudWatchEvent

    event = CloudWatchEvent(json.loads(call["Payload"]), None)
    # Its time is now (to the microsecond): a walk handed over a moment ago is due at it.
    assert abs((event_time(event) - datetime.now(UTC)).total_seconds()) < 60
