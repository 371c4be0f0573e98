"""Worker lanes that forward messages through the invoker, in order per device.

Each device's messages hash to one lane (one thread), so they are forwarded in the order
the broker delivered them while different devices proceed in parallel. A lane takes up to
`batch_max` queued messages, waiting at most `batch_wait_s` for more, and hands them to the
function in one invoke that answers per message. A message is acknowledged only after the
function accepted (or rejected for good) that message; a transient failure is retried with
capped exponential backoff and blocks only its lane.
"""
from __future__ import annotations

import queue
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from chalicelib.core.retry import RetryPolicy
from mqtt_bridge.invokers import Invoker, device_event, device_key
from mqtt_bridge.telemetry import logger, message_keys, metrics

# Heartbeats are most of the traffic: their forwards are logged at DEBUG only.
QUIET_SUFFIXES = ("/status",)
# Payload bytes per batch at most: base64 and JSON grow them by about 40 %, and Lambda
# Invoke takes 6 MB. A bigger message (up to BRIDGE_MAX_PAYLOAD_BYTES) goes alone.
BATCH_MAX_BYTES = 3 * 1024 * 1024
# While a batch waits for more messages, its lane looks at its queue this often.
BATCH_POLL_S = 0.001


@dataclass(frozen=True)
class Delivery:
    """One message as the broker delivered it; `generation` names the connection."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int = 0


@dataclass
class Stats:
    """Counters for logs and tests."""

    forwarded: int = 0
    rejected: int = 0
    retries: int = 0
    dead_lettered: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def bump(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)

    def as_dict(self) -> dict[str, int]:
        """The counters, for a log line."""
        with self.lock:
            return {"forwarded": self.forwarded, "rejected": self.rejected, "retries": self.retries,
                    "dead_lettered": self.dead_lettered}


class Forwarder:
    """A fixed pool of lanes; `ack(delivery)` is called after each finished message."""

    def __init__(self, invoker: Invoker, ack: Callable[[Delivery], None], workers: int = 8,
                 retry: RetryPolicy | None = None, batch_max: int = 1, batch_wait_s: float = 0.0) -> None:
        self._invoker = invoker
        self._batch_max = batch_max
        self._batch_wait_s = batch_wait_s
        self._ack = ack
        self._retry = retry or RetryPolicy(0.2, 30.0)
        self._lanes: list[queue.SimpleQueue[Delivery | None]] = [queue.SimpleQueue() for _ in range(workers)]
        self._abort = threading.Event()
        self._pending = 0
        self._idle = threading.Condition()
        self.stats = Stats()
        self._threads = [threading.Thread(target=self._run, args=(lane,), name=f"bridge-lane-{i}", daemon=True)
                         for i, lane in enumerate(self._lanes)]

    def start(self) -> Forwarder:
        for thread in self._threads:
            thread.start()
        return self

    def submit(self, delivery: Delivery) -> None:
        """Queue a message on its device's lane (never blocks: the broker bounds inflight)."""
        with self._idle:
            self._pending += 1
        lane = zlib.crc32(device_key(delivery.topic).encode()) % len(self._lanes)
        self._lanes[lane].put(delivery)

    def pending(self) -> int:
        """Messages submitted and not yet finished."""
        with self._idle:
            return self._pending

    def drain(self, timeout: float) -> bool:
        """Wait until every submitted message finished; False when time ran out."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def stop(self, timeout: float = 5.0) -> None:
        """Abort retries and stop the lanes; unfinished messages stay unacknowledged."""
        self._abort.set()
        for lane in self._lanes:
            lane.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self, lane: queue.SimpleQueue[Delivery | None]) -> None:
        stopped, carry = False, None
        while not stopped:
            batch, stopped, carry = self._collect(lane, carry)
            try:
                # After an abort, queued messages stay unacknowledged for the next session.
                if self._abort.is_set() or not batch:
                    continue
                if len(batch) == 1:
                    self._forward(batch[0])
                else:
                    self._forward_batch(batch)
            except Exception:  # a bug here must not kill the lane and stall its devices
                logger.exception("lane failed", topic=batch[0].topic, count=len(batch), outcome="error")
            finally:
                with self._idle:
                    self._pending -= len(batch)
                    self._idle.notify_all()

    def _collect(self, lane: queue.SimpleQueue[Delivery | None],
                 carry: Delivery | None) -> tuple[list[Delivery], bool, Delivery | None]:
        """The lane's next batch (blocks for its first message), whether the lane was stopped,
        and the message taken that did not fit (it starts the next batch)."""
        first = carry or lane.get()
        if first is None:
            return [], True, None
        batch, size = [first], len(first.payload)
        deadline = time.monotonic() + self._batch_wait_s
        while len(batch) < self._batch_max:
            try:
                item = lane.get_nowait()
            except queue.Empty:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                # Polled, not a blocking get: a get with a timeout wakes this thread for every message
                # put, and at thousands a second those wakes (and GIL hand-overs) were the bridge's cost.
                time.sleep(min(left, BATCH_POLL_S))
                continue
            if item is None:
                return batch, True, None
            size += len(item.payload)
            if size > BATCH_MAX_BYTES:
                return batch, False, item
            batch.append(item)
        return batch, False, None

    def _forward_batch(self, batch: list[Delivery]) -> None:
        """Forward many messages in one invoke each round; ack each as the function takes it, retry the rest."""
        todo = [(d, message_keys(d.topic, d.payload)) for d in batch]
        for attempt in self._retry.attempts():
            events = [device_event(d.topic, d.payload, keys["correlation_id"]) for d, keys in todo]
            try:
                result = self._invoker.invoke_batch(events)
                failed, reason = result.failed, "failed in the batch"
            except Exception as exc:
                result, failed, reason = None, frozenset(range(len(todo))), str(exc)
            for i, (delivery, keys) in enumerate(todo):
                if i not in failed and result is not None:
                    self._finished(delivery, keys, attempt, result.rejected.get(i))
            todo = [item for i, item in enumerate(todo) if i in failed]
            if not todo:
                return
            if self._retry.exhausted(attempt):
                for delivery, keys in todo:
                    self._dead_letter(delivery, keys, attempt, reason, device_event(delivery.topic,
                                                                                     delivery.payload)["payload_b64"])
                    self._ack(delivery)
                return
            delay = self._retry.delay(attempt)
            logger.warning("batch forward failed; retrying", topic=todo[0][0].topic, count=len(todo),
                           attempt=attempt, retry_in_s=round(delay, 2), reason=reason, outcome="retry")
            self.stats.bump("retries")
            metrics.count("BridgeRetries")
            if self._abort.wait(delay):
                return  # shutting down: the broker redelivers the rest next session

    def _finished(self, delivery: Delivery, keys: dict[str, str], attempt: int, rejected: str | None) -> None:
        """Count, log and acknowledge one message the function took (accepted, or rejected for good)."""
        if rejected is not None:
            logger.warning("message rejected, dropped", topic=delivery.topic, reason=rejected, attempt=attempt,
                           outcome="rejected", extra=keys)
            self.stats.bump("rejected")
            metrics.count_by("BridgeDrops", "reason", "rejected")
        else:
            line = logger.debug if delivery.topic.endswith(QUIET_SUFFIXES) else logger.info
            line("message forwarded", topic=delivery.topic, attempt=attempt, outcome="forwarded", extra=keys)
            self.stats.bump("forwarded")
            metrics.count("BridgeForwards")
        self._ack(delivery)

    def _dead_letter(self, delivery: Delivery, keys: dict[str, str], attempt: int, reason: str,
                     payload_b64: str) -> None:
        # Operators asked for a bound: keep the message in the log, not the broker.
        logger.error("message dropped after retries", topic=delivery.topic, attempt=attempt, reason=reason,
                     payload_b64=payload_b64, outcome="dead_lettered", extra=keys)
        self.stats.bump("dead_lettered")
        metrics.count_by("BridgeDrops", "reason", "dead_lettered")

    def _forward(self, delivery: Delivery) -> None:
        """Forward one message until the function answered, then acknowledge it."""
        keys = message_keys(delivery.topic, delivery.payload)
        event = device_event(delivery.topic, delivery.payload, keys["correlation_id"])
        for attempt in self._retry.attempts():
            try:
                result = self._invoker.invoke(event)
                break
            except Exception as exc:
                if self._retry.exhausted(attempt):
                    self._dead_letter(delivery, keys, attempt, str(exc), event["payload_b64"])
                    self._ack(delivery)
                    return
                delay = self._retry.delay(attempt)
                logger.warning("forward failed; retrying", topic=delivery.topic, attempt=attempt,
                               retry_in_s=round(delay, 2), reason=str(exc), outcome="retry", extra=keys)
                self.stats.bump("retries")
                metrics.count("BridgeRetries")
                if self._abort.wait(delay):
                    return  # shutting down: the broker redelivers it next session
        # A rejection is permanent: retrying cannot help, and keeping it would block the lane.
        self._finished(delivery, keys, attempt, str(result.get("reason")) if result.get("accepted") is False else None)
