"""The bridge's batches: one invoke for many messages, answered per message by the function's batch code.

The invoker fake runs the real batch handling (chalicelib/ingress/batch.py) over a scripted
per-message function, so partial failures, rejections and per-device order are the real ones.
"""
from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.core.retry import RetryPolicy
from chalicelib.ingress import batch
from mqtt_bridge.forwarder import Delivery, Forwarder
from mqtt_bridge.invokers import BRIDGE_SOURCE, InvokeError, Invoker, batch_event, batch_result
from tests.unit.test_bridge_forwarder import Acks, wait_for

FAST = RetryPolicy(min_s=0.01, max_s=0.05)
One = Callable[[str, int], dict[str, Any]]


class BatchFunction(Invoker):
    """A fake of the invoker port whose function is the real batch handler over a scripted message handler."""

    def __init__(self, one: One) -> None:
        self.invokes: list[list[str]] = []
        self.handled: list[str] = []
        self._one = one
        self._lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        if "Records" not in event:  # one message, as device_message takes it
            with self._lock:
                self.invokes.append([event["topic"]])
            return self._handle(event)
        with self._lock:
            self.invokes.append([json.loads(r["body"])["topic"] for r in event["Records"]])
        return batch.handle_batch(event, None, self._handle)

    def _handle(self, event: dict[str, Any]) -> dict[str, Any]:
        label = f"{event['topic'].split('/')[3]}:{base64.b64decode(event['payload_b64']).decode()}"
        with self._lock:
            self.handled.append(label)
            n = self.handled.count(label)
        return self._one(label, n)


def delivery(mid: int, device: str, payload: str) -> Delivery:
    return Delivery(f"tenant/t1/device/{device}/status", payload.encode(), mid, 1)


def run(function: BatchFunction, deliveries: list[Delivery]) -> tuple[Forwarder, Acks]:
    """Queue everything before the lane starts, so the lane's first batch holds it all."""
    acks = Acks()
    fwd = Forwarder(function, acks, workers=1, retry=FAST, batch_max=50, batch_wait_s=0.0)
    for d in deliveries:
        fwd.submit(d)
    fwd.start()
    assert fwd.drain(5)
    fwd.stop()
    return fwd, acks


def test_queued_messages_go_in_one_invoke_and_each_is_acked() -> None:
    function = BatchFunction(lambda label, n: {"accepted": True})
    fwd, acks = run(function, [delivery(i, f"d{i % 3}", str(i)) for i in range(10)])
    assert len(function.invokes) == 1 and len(function.invokes[0]) == 10
    assert sorted(acks.mids) == list(range(10))
    assert fwd.stats.forwarded == 10


def test_a_partial_failure_is_retried_alone_and_keeps_its_device_in_order() -> None:
    # Given a batch where device a's first message fails once (the database blinked)
    function = BatchFunction(lambda label, n: (_ for _ in ()).throw(RuntimeError("blink"))
                             if label == "a:1" and n == 1 else {"accepted": True})
    fwd, acks = run(function, [delivery(1, "a", "1"), delivery(2, "b", "1"), delivery(3, "a", "2"),
                               delivery(4, "b", "2")])
    # Then b's messages went through in the first invoke; a's two come back alone, in order
    assert function.invokes[1] == ["tenant/t1/device/a/status"] * 2
    assert [h for h in function.handled if h.startswith("a:")] == ["a:1", "a:1", "a:2"]
    assert sorted(acks.mids) == [1, 2, 3, 4]
    assert acks.mids[:2] == [2, 4]  # b's were acknowledged before a's retry
    assert (fwd.stats.forwarded, fwd.stats.retries) == (4, 1)


def test_a_rejected_message_is_dropped_and_never_holds_its_batch() -> None:
    function = BatchFunction(lambda label, n: {"accepted": False, "reason": "payload is not JSON"}
                             if label == "a:bad" else {"accepted": True})
    fwd, acks = run(function, [delivery(1, "a", "bad"), delivery(2, "a", "good"), delivery(3, "b", "x")])
    assert len(function.invokes) == 1
    assert function.handled.count("a:bad") == 1
    assert sorted(acks.mids) == [1, 2, 3]
    assert (fwd.stats.rejected, fwd.stats.forwarded, fwd.stats.retries) == (1, 2, 0)


def test_a_batch_that_failed_whole_is_retried_whole_and_acked_only_after() -> None:
    calls = {"n": 0}

    class Flaky(BatchFunction):
        def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
            calls["n"] += 1
            if calls["n"] <= 2:
                raise InvokeError("throttled")
            return super().invoke(event)

    function = Flaky(lambda label, n: {"accepted": True})
    fwd, acks = run(function, [delivery(i, "a", str(i)) for i in range(5)])
    assert calls["n"] == 3 and function.handled == [f"a:{i}" for i in range(5)]
    assert sorted(acks.mids) == list(range(5))
    assert fwd.stats.retries == 2


def test_a_lane_waits_at_most_batch_wait_for_more() -> None:
    # A lone message is forwarded alone once the wait is over (no second message ever comes).
    function = BatchFunction(lambda label, n: {"accepted": True})
    acks = Acks()
    fwd = Forwarder(function, acks, workers=1, retry=FAST, batch_max=50, batch_wait_s=0.01).start()
    fwd.submit(delivery(7, "a", "x"))
    wait_for(lambda: acks.mids == [7])
    assert function.invokes == [["tenant/t1/device/a/status"]]
    fwd.stop()


def test_the_batch_event_is_grouped_by_device_and_marked_as_the_bridges() -> None:
    event = batch_event([{"topic": "tenant/t/device/d/jobs/j/update"}, {"topic": "$aws/things/x/shadow/update"}])
    records = event["Records"]
    assert [r["attributes"]["MessageGroupId"] for r in records] == ["tenant/t/device/d", "$aws/things/x"]
    assert {r["eventSource"] for r in records} == {BRIDGE_SOURCE} == {batch.BRIDGE_SOURCE}


@pytest.mark.parametrize("answer", [{}, {"batchItemFailures": [{"itemIdentifier": "9"}]}, {"accepted": True},
                                    {"batchItemFailures": [{"itemIdentifier": "x"}]}])
def test_an_answer_that_is_not_a_batch_answer_fails_the_whole_batch(answer: dict[str, Any]) -> None:
    with pytest.raises(InvokeError):
        batch_result(answer, 3)


def test_an_sqs_queue_batch_keeps_its_documented_answer() -> None:
    # The topic rule's queue: no groups, no bridge marker, so no `rejected` key and no group skipping.
    records = [{"messageId": str(i), "body": json.dumps({"topic": f"t{i}"}), "eventSource": "aws:sqs"}
               for i in range(3)]

    def one(event: dict[str, Any]) -> dict[str, Any]:
        if event["topic"] == "t0":
            raise RuntimeError("blink")
        return {"accepted": event["topic"] != "t1"}

    answer = batch.handle_batch({"Records": records}, None, one)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "0"}]}


def test_a_batch_stays_under_the_invoke_size_limit() -> None:
    from mqtt_bridge.forwarder import BATCH_MAX_BYTES

    function = BatchFunction(lambda label, n: {"accepted": True})
    big = "x" * (BATCH_MAX_BYTES // 3 + 1)
    _, acks = run(function, [delivery(i, "a", big + str(i)) for i in range(5)])
    # Two fit in a batch, the third would pass the bound: 2 + 2 + 1, every message once, in order
    assert [len(topics) for topics in function.invokes] == [2, 2, 1]
    assert [h[-1] for h in function.handled] == ["0", "1", "2", "3", "4"]
    assert sorted(acks.mids) == list(range(5))
