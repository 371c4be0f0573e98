"""Routing of device-to-cloud MQTT messages to the same services the HTTP routes use."""
from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from chalicelib.aws_iot.topics import parse_aws_topic
from chalicelib.core.errors import DomainError, Unavailable
from chalicelib.core.observability.log import logger
from chalicelib.core.storage.errors import is_invalid_request
from chalicelib.core.strict_json import UnsafeJson, loads_strict
from chalicelib.core.topics import DeviceTopic, parse_device_topic

# handler(tenant_id, device_id, suffix, payload) -> result document
Handler = Callable[[str, str, str, dict[str, Any]], dict[str, Any]]
# handler(topic, raw payload) -> result document, for topics of no device (boards enrolling by claim)
TopicHandler = Callable[[str, bytes], dict[str, Any]]
# hook(tenant_id, device_id): the device is back after being away
ReturnHook = Callable[[str, str], object]
# reject(tenant_id, device_id, suffix, status, message): answers a request refused before its
# handler ran (AWS IoT topics answer on `/rejected`; the project's own topics have no answer).
Rejecter = Callable[[str, str, str, int, str], None]


@dataclass(frozen=True)
class Outcome:
    """What happened to one message. `accepted` False means rejected for good (do not retry)."""

    accepted: bool
    reason: str = ""
    result: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "reason": self.reason, "result": self.result}


class Presence(Protocol):
    """The devices feature's view of a message arriving (DeviceService.seen)."""

    def seen(self, tenant_id: str, device_id: str) -> bool:
        """Check the device may talk and count its presence; True when it is back from being away."""
        ...


class DeviceMessageRouter:
    """Dispatches by topic suffix; permanent errors are outcomes, transient ones raise.

    Raising is the signal to the bridge that it must not acknowledge the message to the
    broker, so the broker redelivers it: that is how nothing reaching the broker is lost.
    """

    def __init__(self, devices: Presence, max_payload_bytes: int = 64 * 1024) -> None:
        self._devices = devices
        self._max_payload_bytes = max_payload_bytes
        self._routes: list[tuple[str, Handler]] = [("status", self._status)]
        self._on_return: list[ReturnHook] = []
        self._quiet_suffixes: set[str] = set()
        self._rejecters: dict[str, Rejecter] = {}
        self._roots: list[tuple[str, TopicHandler]] = []

    def register(self, suffix_pattern: str, handler: Handler, reject: Rejecter | None = None) -> None:
        """Route messages whose suffix matches (fnmatch: `jobs/*/update`)."""
        self._routes.append((suffix_pattern, handler))
        if reject is not None:
            self._rejecters[suffix_pattern] = reject

    def register_topic_root(self, root: str, handler: TopicHandler) -> None:
        """Route messages under `root/` to the handler, raw: it parses, bounds and answers them itself."""
        self._roots.append((root.rstrip("/") + "/", handler))

    def on_return(self, hook: ReturnHook, unless_suffix: str | None = None) -> None:
        """Call hook after the first message of a device that was away (not for `unless_suffix`,
        whose handler does the same work itself)."""
        self._on_return.append(hook)
        if unless_suffix:
            self._quiet_suffixes.add(unless_suffix)

    def handle(self, topic: str, payload: bytes | str) -> Outcome:
        """Process one message from the bridge."""
        root = next((h for r, h in self._roots if topic.startswith(r)), None)
        if root is not None:
            return _settled(topic, lambda: _raw(root, topic, payload))
        parsed = parse_device_topic(topic) or _aws_topic(topic)
        if parsed is None:
            return Outcome(False, f"not a device topic: {topic}")
        route = next(((p, h) for p, h in self._routes if fnmatch.fnmatchcase(parsed.suffix, p)), None)
        if route is None:
            return Outcome(False, f"no handler for {parsed.suffix}")
        pattern, handler = route
        if len(payload) > self._max_payload_bytes:
            # The same bound as an HTTP body: a bigger one could never be stored, and
            # raising would make the bridge retry it for ever.
            return self._refuse(parsed, pattern, 413, f"payload exceeds {self._max_payload_bytes} bytes")
        try:
            body = loads_strict(payload) if payload not in (b"", "") else {}
        except UnsafeJson as exc:
            return self._refuse(parsed, pattern, 400, f"invalid payload: {exc}")
        except (ValueError, RecursionError):
            # RecursionError (absurd nesting) is permanent too: raising would make it a poison message.
            return self._refuse(parsed, pattern, 400, "payload is not JSON")
        if not isinstance(body, dict):
            return self._refuse(parsed, pattern, 400, "payload must be a JSON object")
        return _settled(topic, lambda: self._deliver(parsed, handler, body))

    def _deliver(self, parsed: DeviceTopic, handler: Handler, body: dict[str, Any]) -> Outcome:
        returned = self._devices.seen(parsed.tenant_id, parsed.device_id)
        result = handler(parsed.tenant_id, parsed.device_id, parsed.suffix, body)
        if returned and parsed.suffix not in self._quiet_suffixes:
            self._returned(parsed.tenant_id, parsed.device_id)  # never raises: the message is handled
        return Outcome(True, result=result)

    def _returned(self, tenant_id: str, device_id: str) -> None:
        for hook in self._on_return:
            try:
                hook(tenant_id, device_id)
            except Exception:  # the message itself was handled; the retry schedule covers the rest
                logger.exception("return hook failed", tenant=tenant_id, device=device_id, outcome="failed")

    def _refuse(self, parsed: DeviceTopic, pattern: str, status: int, reason: str) -> Outcome:
        reject = self._rejecters.get(pattern)
        if reject is not None:
            reject(parsed.tenant_id, parsed.device_id, parsed.suffix, status, reason)
        return Outcome(False, reason)

    @staticmethod
    def _status(tenant_id: str, device_id: str, suffix: str, body: dict[str, Any]) -> dict[str, Any]:
        # Presence was already recorded by the router; a heartbeat has nothing else to do.
        return {"device_id": device_id, "seen": True}


def _raw(handler: TopicHandler, topic: str, payload: bytes | str) -> Outcome:
    result = handler(topic, payload.encode() if isinstance(payload, str) else payload)
    accepted = bool(result.get("accepted", True))
    return Outcome(accepted, "" if accepted else str(result.get("errorCode", "")), result=result)


def _settled(topic: str, deliver: Callable[[], Outcome]) -> Outcome:
    """Run a message's handler; its failure ends as `_refusal` says (one mapping for every kind of message)."""
    try:
        return deliver()
    except Exception as exc:
        refused = _refusal(topic, exc)
        if refused is None:
            raise
        return refused


def _refusal(topic: str, exc: Exception) -> Outcome | None:
    """How a handler's failure ends: a permanent Outcome (dropped, never retried), or None when it may be
    transient and must propagate, so the bridge leaves the message unacknowledged and the broker redelivers it.

    The one mapping for every message, device topics and raw topic roots alike.
    """
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        return Outcome(False, f"invalid payload: {field}: {first.get('msg')}")
    if isinstance(exc, Unavailable):
        return None  # contention or an unreachable dependency
    if isinstance(exc, DomainError):
        return Outcome(False, f"{exc.code}: {exc.message}")
    if isinstance(exc, (RecursionError, ValueError, TypeError)):
        # The message itself cannot be processed (a bug or an input no check caught): the
        # same bytes would fail on every redelivery and stall the device's bridge lane, and
        # with it other tenants' devices. Logged, and dropped like any permanent rejection.
        logger.exception("message could not be processed", topic=topic, outcome="dropped")
        return Outcome(False, f"could not be processed: {type(exc).__name__}")
    if is_invalid_request(exc):
        # DynamoDB refused the request itself (an item over its size limit, say):
        # the same message would be refused on every redelivery.
        return Outcome(False, f"refused by the database: {exc}")
    return None


def _aws_topic(topic: str) -> DeviceTopic | None:
    parsed = parse_aws_topic(topic)
    return DeviceTopic(parsed.tenant_id, parsed.device_id, parsed.route) if parsed else None
