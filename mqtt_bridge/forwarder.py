"""Worker lanes that forward messages through the invoker, in order per device.

Each device's messages hash to one lane (one thread), so they are forwarded in the order
the broker delivered them while different devices proceed in parallel. A message is
acknowledged only after its own forward returned; a transient failure is retried with
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
from mqtt_bridge.invokers import Invoker, device_event
from mqtt_bridge.telemetry import logger, message_keys, metrics

# Heartbeats are most of the traffic: their forwards are logged at DEBUG only.
QUIET_SUFFIXES = ("/status",)


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


def device_key(topic: str) -> str:
    """tenant/{t}/device/{d} or $aws/things/{thing}: the unit of ordering (other topics order by themselves)."""
    parts = topic.split("/")
    return "/".join(parts[:3] if parts[0] == "$aws" else parts[:4])


class Forwarder:
    """A fixed pool of lanes; `ack(delivery)` is called after each finished message."""

    def __init__(self, invoker: Invoker, ack: Callable[[Delivery], None], workers: int = 8,
                 retry: RetryPolicy | None = None) -> None:
        self._invoker = invoker
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
        while True:
            delivery = lane.get()
            if delivery is None:
                return
            try:
                # After an abort, queued messages stay unacknowledged for the next session.
                if not self._abort.is_set() and self._forward(delivery):
                    self._ack(delivery)
            except Exception:  # a bug here must not kill the lane and stall its devices
                logger.exception("lane failed", topic=delivery.topic, outcome="error")
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _forward(self, delivery: Delivery) -> bool:
        """Forward until the function answered; True when the message may be acked."""
        keys = message_keys(delivery.topic, delivery.payload)
        event = device_event(delivery.topic, delivery.payload, keys["correlation_id"])
        for attempt in self._retry.attempts():
            try:
                result = self._invoker.invoke(event)
                break
            except Exception as exc:
                if self._retry.exhausted(attempt):
                    # Operators asked for a bound: keep the message in the log, not the broker.
                    logger.error("message dropped after retries", topic=delivery.topic, attempt=attempt,
                                 reason=str(exc), payload_b64=event["payload_b64"], outcome="dead_lettered",
                                 extra=keys)
                    self.stats.bump("dead_lettered")
                    metrics.count_by("BridgeDrops", "reason", "dead_lettered")
                    return True
                delay = self._retry.delay(attempt)
                logger.warning("forward failed; retrying", topic=delivery.topic, attempt=attempt,
                               retry_in_s=round(delay, 2), reason=str(exc), outcome="retry", extra=keys)
                self.stats.bump("retries")
                metrics.count("BridgeRetries")
                if self._abort.wait(delay):
                    return False  # shutting down: the broker redelivers it next session
        if result.get("accepted") is False:
            # Permanent: retrying cannot help, and keeping it would block the lane.
            logger.warning("message rejected, dropped", topic=delivery.topic, reason=result.get("reason"),
                           attempt=attempt, outcome="rejected", extra=keys)
            self.stats.bump("rejected")
            metrics.count_by("BridgeDrops", "reason", "rejected")
        else:
            line = logger.debug if delivery.topic.endswith(QUIET_SUFFIXES) else logger.info
            line("message forwarded", topic=delivery.topic, attempt=attempt, outcome="forwarded", extra=keys)
            self.stats.bump("forwarded")
            metrics.count("BridgeForwards")
        return True
