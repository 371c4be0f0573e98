"""The one interface the services use to talk to devices."""
from __future__ import annotations

import json
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

    def encoded(self) -> bytes:
        # An empty retained message is MQTT's way to delete the retained one on a topic.
        if self.payload is None:
            return b""
        return json.dumps(self.payload, separators=(",", ":"), default=str).encode()

    @classmethod
    def clear_retained(cls, topic: str) -> Message:
        """The message that removes whatever is retained on `topic`."""
        return cls(topic=topic, payload=None, qos=1, retain=True)


class Publisher(ABC):
    """Publishes to devices. Returns False instead of raising when the broker is unreachable,

    because a failed publish is a normal state for commands (queued for retry), not an error.
    """

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
        if not self.reachable:
            return False
        self.sent.append(message)
        return True

    def is_reachable(self) -> bool:
        return self.reachable
