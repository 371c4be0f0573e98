"""The bridge's worker lanes: ack after forward, retry transient failures, order per device."""
from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable
from typing import Any

from chalicelib.core.retry import RetryPolicy
from mqtt_bridge.forwarder import Delivery, Forwarder, device_key
from mqtt_bridge.invokers import InvokeError, Invoker

FAST = RetryPolicy(min_s=0.01, max_s=0.05)


class ScriptedInvoker(Invoker):
    """A fake of our invoker port: answers by a script, records every call."""

    def __init__(self, answer: Callable[[dict[str, Any], int], dict[str, Any]] | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self._answer = answer or (lambda event, n: {"accepted": True})
        self._lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls.append(event)
            n = sum(1 for c in self.calls if c == event)
        return self._answer(event, n)


class Acks:
    def __init__(self) -> None:
        self.mids: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, delivery: Delivery) -> None:
        with self.lock:
            self.mids.append(delivery.mid)


def delivery(mid: int, device: str = "d1", payload: bytes = b"{}") -> Delivery:
    return Delivery(f"tenant/t1/device/{device}/status", payload, mid, 1)


def lane_of(device: str, workers: int) -> int:
    return zlib.crc32(device_key(f"tenant/t1/device/{device}/status").encode()) % workers


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def test_message_is_acked_only_after_the_invoker_returned() -> None:
    # Given an invoker that holds the first call until released
    release = threading.Event()
    invoker = ScriptedInvoker(lambda e, n: {"accepted": True} if release.wait(5) else {})
    acks = Acks()
    fwd = Forwarder(invoker, acks, workers=2, retry=FAST).start()
    # When a message is submitted
    fwd.submit(delivery(7))
    wait_for(lambda: len(invoker.calls) == 1)
    # Then nothing is acked while the function runs, and it is acked once it returned
    time.sleep(0.05)
    assert acks.mids == []
    release.set()
    assert fwd.drain(5)
    assert acks.mids == [7]
    assert fwd.stats.forwarded == 1
    fwd.stop()


def test_transient_failure_is_retried_then_acked_once() -> None:
    # Given an invoker failing twice for the message
    def answer(event: dict[str, Any], n: int) -> dict[str, Any]:
        if n <= 2:
            raise InvokeError("database unavailable")
        return {"accepted": True}

    invoker = ScriptedInvoker(answer)
    acks = Acks()
    fwd = Forwarder(invoker, acks, workers=1, retry=FAST).start()
    # When it is submitted
    fwd.submit(delivery(1))
    # Then it is tried three times and acked exactly once
    assert fwd.drain(5)
    assert len(invoker.calls) == 3
    assert acks.mids == [1]
    assert (fwd.stats.retries, fwd.stats.forwarded) == (2, 1)
    fwd.stop()


def test_a_retrying_message_holds_back_its_device_but_not_other_devices() -> None:
    # Given device d1's first message fails until released
    release = threading.Event()

    def answer(event: dict[str, Any], n: int) -> dict[str, Any]:
        if event["payload_b64"] == "Zmlyc3Q=" and not release.is_set():  # b"first"
            raise InvokeError("transient")
        return {"accepted": True}

    invoker = ScriptedInvoker(answer)
    acks = Acks()
    fwd = Forwarder(invoker, acks, workers=4, retry=FAST).start()
    # When d1 sends two messages and other devices send theirs
    fwd.submit(delivery(1, "d1", b"first"))
    fwd.submit(delivery(2, "d1", b"second"))
    others = [f"other-{i}" for i in range(8)]
    for i, dev in enumerate(others):
        fwd.submit(delivery(100 + i, dev))
    # Then devices on other lanes get through while d1 waits, and d1 keeps its order
    elsewhere = [d for d in others if lane_of(d, 4) != lane_of("d1", 4)]
    assert elsewhere
    wait_for(lambda: len([m for m in acks.mids if m >= 100]) >= len(elsewhere))
    assert 1 not in acks.mids and 2 not in acks.mids
    release.set()
    assert fwd.drain(5)
    assert acks.mids.index(1) < acks.mids.index(2)
    assert sorted(acks.mids) == [1, 2, *range(100, 108)]
    fwd.stop()


def test_rejected_message_is_acked_and_never_retried() -> None:
    # Given the function rejects the message for good
    invoker = ScriptedInvoker(lambda e, n: {"accepted": False, "reason": "payload is not JSON"})
    acks = Acks()
    fwd = Forwarder(invoker, acks, workers=1, retry=FAST).start()
    # When it is submitted
    fwd.submit(delivery(3, payload=b"{not json"))
    # Then it is called once, acked, and counted as rejected
    assert fwd.drain(5)
    assert len(invoker.calls) == 1
    assert acks.mids == [3]
    assert (fwd.stats.rejected, fwd.stats.forwarded) == (1, 0)
    fwd.stop()


def test_max_attempts_gives_up_and_acks_when_configured() -> None:
    # Given a bound of three attempts and an invoker that always fails
    def answer(event: dict[str, Any], n: int) -> dict[str, Any]:
        raise InvokeError("down")

    invoker = ScriptedInvoker(answer)
    acks = Acks()
    fwd = Forwarder(invoker, acks, workers=1, retry=RetryPolicy(0.01, 0.02, max_attempts=3)).start()
    # When a message is submitted
    fwd.submit(delivery(9))
    # Then after three attempts it is logged as dead-lettered and acked
    assert fwd.drain(5)
    assert len(invoker.calls) == 3
    assert acks.mids == [9]
    assert fwd.stats.dead_lettered == 1
    fwd.stop()


def test_stop_during_a_retry_leaves_the_message_unacked() -> None:
    # Given a message that keeps failing with a long backoff
    def answer(event: dict[str, Any], n: int) -> dict[str, Any]:
        raise InvokeError("down")

    invoker = ScriptedInvoker(answer)
    acks = Acks()
    fwd = Forwarder(invoker, acks, workers=1, retry=RetryPolicy(10, 10)).start()
    fwd.submit(delivery(4))
    fwd.submit(delivery(5))
    wait_for(lambda: len(invoker.calls) == 1)
    # When the grace period runs out and the forwarder stops
    assert not fwd.drain(0.05)
    started = time.monotonic()
    fwd.stop()
    # Then it stops promptly and neither message was acked (the broker redelivers them)
    assert time.monotonic() - started < 2
    assert acks.mids == []
    assert len(invoker.calls) == 1


def test_a_failing_ack_does_not_kill_the_lane() -> None:
    # Given an ack callback that raises on the first message
    acked: list[int] = []

    def ack(d: Delivery) -> None:
        if d.mid == 1:
            raise RuntimeError("socket gone")
        acked.append(d.mid)

    fwd = Forwarder(ScriptedInvoker(), ack, workers=1, retry=FAST).start()
    # When two messages go through the same lane
    fwd.submit(delivery(1))
    fwd.submit(delivery(2))
    # Then the second is still processed
    assert fwd.drain(5)
    assert acked == [2]
    fwd.stop()


def test_retry_delay_doubles_and_is_capped() -> None:
    policy = RetryPolicy(min_s=1.0, max_s=8.0)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (10, 8.0), (500, 8.0)]:
        delay = policy.delay(attempt)
        assert ceiling / 2 <= delay <= ceiling


def test_device_key_groups_every_topic_of_one_device() -> None:
    assert device_key("tenant/t/device/d/status") == device_key("tenant/t/device/d/jobs/j1/update")
    assert device_key("tenant/t/device/d/status") != device_key("tenant/t/device/e/status")
