"""Publishing under failure: broker down, scheduled retries, exhaustion, and the races."""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from chalicelib.commands.models import CommandRef
from chalicelib.commands.schemas import AckCommand, CommandEvent, CommandStatus
from chalicelib.container import container
from chalicelib.core.errors import Conflict
from tests.commands_support import command, drain, minutes_from_now, run_expiry, run_retry, send, wait_until
from tests.conftest import Stack
from tests.support import Api


def _broker_back(stack: Stack) -> None:
    stack.broker.start()
    assert wait_until(container().publisher.is_reachable, timeout=20), "publisher did not reconnect"


def test_publish_while_the_broker_is_down_is_retried_once_it_is_back(stack: Stack, api: Api) -> None:
    # Given the broker is down when two commands are sent; the device polls the first over HTTP
    device_id, token = api.create_device()
    stack.broker.stop()
    try:
        polled = send(api, device_id, "reboot")
        assert len(api.device_call("GET", "/device/v1/commands/pending", token).body["commands"]) == 1
        lost = send(api, device_id, "ping")
    finally:
        _broker_back(stack)
    # Then the POST answered queued and unpublished, and the detailed health shows a publish backlog
    assert lost["status"] == "queued" and lost["mqtt_published"] is False
    assert lost["publish_attempts"] == 1
    backlog = api.get("/customer/health").body["command_queue"]["awaiting_publish"]
    assert backlog >= 1
    # When the retry runs after the interval, with a watcher on the device's topic
    watcher = stack.observer()
    watcher.subscribe(f"tenant/{api.tenant_id}/device/{device_id}/commands")
    run_retry(minutes_from_now(0.6))
    # Then only the command the device has not fetched is published, once
    received = drain(watcher)
    assert [body["command_id"] for _, body in received] == [lost["command_id"]]
    after = command(api, device_id, lost["command_id"])
    assert after["mqtt_published"] is True and after["publish_attempts"] == 2
    # And, the broker having taken it but no ACK having come, the next retry tries the device again
    run_retry(minutes_from_now(3))
    assert [body["command_id"] for _, body in drain(watcher)] == [lost["command_id"]]
    assert command(api, device_id, lost["command_id"])["publish_attempts"] == 3
    assert api.get("/customer/health").body["command_queue"]["awaiting_publish"] < backlog
    # And with its attempts spent a later retry has nothing left to do for this device
    run_retry(minutes_from_now(6))
    assert drain(watcher, 0.3) == []
    # And at expiry both count as reached-the-device: missed, not expired
    run_expiry(minutes_from_now(61))
    assert command(api, device_id, lost["command_id"])["status"] == "missed"
    assert command(api, device_id, polled["command_id"])["status"] == "missed"
    watcher.close()


def test_a_command_that_never_got_out_stops_retrying_and_expires_as_expired(stack: Stack, api: Api) -> None:
    # Given a command sent while the broker is down, and every retry failing too
    device_id, _ = api.create_device()
    stack.broker.stop()
    try:
        created = send(api, device_id, "ping", expires_in_minutes=10)
        attempts = []
        for seconds in (31, 62, 93, 124):
            run_retry(minutes_from_now(seconds / 60))
            attempts.append(command(api, device_id, created["command_id"])["publish_attempts"])
    finally:
        _broker_back(stack)
    # Then it was attempted at most the configured number of times
    max_attempts = container().settings.commands.max_attempts
    assert attempts == [2, 3, 3, 3] and max_attempts == 3
    # And with the broker back, no retry picks it up any more
    run_retry(minutes_from_now(5))
    assert command(api, device_id, created["command_id"])["mqtt_published"] is False
    # When it expires, it is `expired` (never reached the device)
    run_expiry(minutes_from_now(11))
    assert command(api, device_id, created["command_id"])["status"] == "expired"


def _race(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions at the same moment in threads; return each result or exception."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(i: int, action: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = action()
        except Exception as exc:  # the loser's exception is the result under test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_ack_racing_the_expiry_has_exactly_one_winner(api: Api) -> None:
    # Given commands past their expiry, already published (so the expiry would make them missed)
    device_id, _ = api.create_device()
    ids = [send(api, device_id, "ping", expires_in_minutes=1)["command_id"] for _ in range(8)]
    acks = container().device_command_service
    commands = container().command_repository
    later = minutes_from_now(2)
    for cid in ids:
        # When the device's ACK and the expiry's conditional write hit the command at the same moment
        ack, expired = _race(
            partial(acks.acknowledge, api.tenant_id, device_id, cid, AckCommand(status="ok")),
            partial(commands.transition, CommandRef(api.tenant_id, device_id, cid), CommandStatus.QUEUED,
                    CommandEvent.EXPIRED_SEEN, later),
        )
        # Then exactly one of them won, and the stored status is the winner's
        ack_won = not isinstance(ack, Exception)
        assert ack_won or isinstance(ack, Conflict), ack
        assert ack_won != (expired is not None), (ack, expired)
        assert command(api, device_id, cid)["status"] == ("delivered" if ack_won else "missed")


def test_two_concurrent_retries_publish_a_command_once(stack: Stack, api: Api) -> None:
    # Given an unpublished command
    device_id, _ = api.create_device()
    stack.broker.stop()
    try:
        created = send(api, device_id, "ping")
    finally:
        _broker_back(stack)
    watcher = stack.observer()
    watcher.subscribe(f"tenant/{api.tenant_id}/device/{device_id}/commands")
    # When two retry runs start at the same moment
    due = minutes_from_now(0.6)
    dispatcher = container().command_dispatcher
    _race(lambda: dispatcher.retry_due(due), lambda: dispatcher.retry_due(due + timedelta(seconds=1)))
    # Then the device's topic saw the command once, and one attempt was counted
    assert [body["command_id"] for _, body in drain(watcher)] == [created["command_id"]]
    assert command(api, device_id, created["command_id"])["publish_attempts"] == 2
    watcher.close()
