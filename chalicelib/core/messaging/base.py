"""The one interface the services use to talk to devices."""
from __future__ import annotations

import json
import re
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Message:
    """One MQTT message to publish."""

    topic: str
    payload: dict[str, Any] | None
    qos: int = 1
    retain: bool = False
    # Sent as MQTT 5 correlation data (and a user property), never in the payload, whose shape is the contract.
    correlation_id: str | None = None

    def encoded(self) -> bytes:
        # An empty retained message is MQTT's way to delete the retained one on a topic.
        if self.payload is None:
            return b""
        return json.dumps(self.payload, separators=(",", ":"), default=str).encode()

    @classmethod
    def clear_retained(cls, topic: str) -> Message:
        """The message that removes whatever is retained on `topic`."""
        return cls(topic=topic, payload=None, qos=1, retain=True)


def topic_error(topic: str) -> str | None:
    """Why a broker would refuse `topic` as a publish target, or None when it is fine.

    A topic the broker refuses gets the publishing connection dropped, and an MQTT client
    resends its unacknowledged messages on reconnect, so one such message would block every
    later publish of every tenant: it is refused here instead, before it is ever sent.
    """
    if not topic:
        return "empty topic"
    if len(topic.encode("utf-8", "surrogatepass")) > 65535:
        return "topic longer than 65535 bytes"
    if "+" in topic or "#" in topic:
        return "wildcard in a topic name"
    if _CONTROL.search(topic):
        return "control character in topic"
    return None


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class PublishStats:
    """Consecutive failures and the last error of a publisher, for /health."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.consecutive_failures = 0
        self.last_error: str | None = None
        self.last_error_at: float | None = None

    def record(self, ok: bool, error: str = "") -> None:
        """Count one publish outcome."""
        with self._lock:
            if ok:
                self.consecutive_failures = 0
                return
            self.consecutive_failures += 1
            self.last_error = error or "not acknowledged by the broker"
            self.last_error_at = time.time()

    def snapshot(self) -> dict[str, Any]:
        """The counters as a JSON object."""
        with self._lock:
            return {"consecutive_failures": self.consecutive_failures, "last_error": self.last_error,
                    "last_error_at": self.last_error_at}


class Publisher(ABC):
    """Publishes to devices. Returns False instead of raising when the broker is unreachable,

    because a failed publish is a normal state for commands (queued for retry), not an error.
    """

    # Publishes failing this many times in a row make /health say the broker is not ok,
    # even while a connection is up (a broker that accepts connections but refuses publishes).
    FAILURES_UNHEALTHY = 3
    _stats: PublishStats | None = None
    _stats_lock = threading.Lock()

    @property
    def stats(self) -> PublishStats:
        """This publisher's outcome counters (created on first use)."""
        with Publisher._stats_lock:
            if self._stats is None:
                self._stats = PublishStats()
            return self._stats

    def health(self) -> dict[str, Any]:
        """Reachability plus the real state of recent publishes."""
        reachable = self.is_reachable()
        snap = self.stats.snapshot()
        return {"ok": reachable and snap["consecutive_failures"] < self.FAILURES_UNHEALTHY,
                "reachable": reachable, **snap}

    @abstractmethod
    def publish(self, message: Message) -> bool:
        """Publish one message with at-least-once delivery to the broker."""

    def publish_many(self, messages: list[Message]) -> list[bool]:
        """Publish several messages; adapters may pipeline them."""
        return [self.publish(m) for m in messages]

    @abstractmethod
    def is_reachable(self) -> bool:
        """Whether the broker can be reached now (for /health)."""


@dataclass
class RecordingPublisher(Publisher):
    """An in-memory publisher for unit tests and for stages with messaging off."""

    reachable: bool = True
    sent: list[Message] = field(default_factory=list)

    def publish(self, message: Message) -> bool:
        error = topic_error(message.topic) or ("" if self.reachable else "broker unreachable")
        self.stats.record(not error, error)
        if error:
            return False
        self.sent.append(message)
        return True

    def is_reachable(self) -> bool:
        return self.reachable
