"""The device-message router: which failures are dropped for good and which are retried."""
from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from chalicelib.core.errors import Conflict, Unavailable
from chalicelib.ingress.router import DeviceMessageRouter

TOPIC = "tenant/acme/device/d-1/things/do"


class FakePresence:
    """Stands in for DeviceService.seen (a port of ours), recording the calls."""

    def __init__(self, returning: bool = False) -> None:
        self.seen_calls: list[tuple[str, str]] = []
        self.returning = returning

    def seen(self, tenant_id: str, device_id: str) -> bool:
        self.seen_calls.append((tenant_id, device_id))
        return self.returning


class Body(BaseModel):
    count: int


def router_with(handler: Any) -> tuple[DeviceMessageRouter, FakePresence]:
    presence = FakePresence()
    router = DeviceMessageRouter(presence)
    router.register("things/*", handler)
    return router, presence


def test_a_handled_message_is_accepted_with_its_result_and_counts_as_seen() -> None:
    router, presence = router_with(lambda t, d, s, body: {"echo": body, "suffix": s})

    outcome = router.handle(TOPIC, b'{"count": 1}')

    assert outcome.accepted
    assert outcome.result == {"echo": {"count": 1}, "suffix": "things/do"}
    assert presence.seen_calls == [("acme", "d-1")]


def test_a_domain_error_is_a_permanent_rejection_with_its_code() -> None:
    def handler(*_: Any) -> dict[str, Any]:
        raise Conflict("already final", field="status")

    router, _ = router_with(handler)

    outcome = router.handle(TOPIC, b"{}")

    assert not outcome.accepted
    assert outcome.reason == "conflict: already final"


def test_unavailable_raises_so_the_bridge_leaves_the_message_for_redelivery() -> None:
    def handler(*_: Any) -> dict[str, Any]:
        raise Unavailable("the job is busy; retry", field="job_id")

    router, _ = router_with(handler)

    with pytest.raises(Unavailable):
        router.handle(TOPIC, b"{}")


def test_a_validation_error_names_the_field() -> None:
    router, _ = router_with(lambda t, d, s, body: Body.model_validate(body).model_dump())

    outcome = router.handle(TOPIC, b'{"count": "many"}')

    assert not outcome.accepted
    assert outcome.reason.startswith("invalid payload: count:")


@pytest.mark.parametrize(("topic", "payload", "reason"), [
    ("not/a/device/topic", b"{}", "not a device topic: not/a/device/topic"),
    ("tenant/acme/device/d-1/unknown", b"{}", "no handler for unknown"),
    (TOPIC, b"{not json", "payload is not JSON"),
    (TOPIC, b"[1, 2]", "payload must be a JSON object"),
])
def test_unroutable_or_malformed_messages_are_dropped(topic: str, payload: bytes, reason: str) -> None:
    router, presence = router_with(lambda *_: {})

    outcome = router.handle(topic, payload)

    assert not outcome.accepted
    assert outcome.reason == reason
    assert presence.seen_calls == []


@pytest.mark.parametrize(("payload", "reason"), [
    (b'{"count": NaN}', "payload is not JSON"),
    (b'{"count": Infinity}', "payload is not JSON"),
    (b'{"name": "\\ud800"}', "payload is not JSON"),
])
def test_json_python_accepts_but_json_forbids_is_dropped(payload: bytes, reason: str) -> None:
    # Given a handler that would store whatever it gets
    calls: list[Any] = []
    router, _ = router_with(lambda t, d, s, body: calls.append(body) or {})

    # When a payload carries NaN, Infinity or a lone surrogate
    outcome = router.handle(TOPIC, payload)

    # Then it is refused for good (it could never be stored or re-encoded) and never handled
    assert not outcome.accepted and outcome.reason == reason
    assert calls == []


def test_a_payload_over_the_limit_is_dropped_before_parsing() -> None:
    presence = FakePresence()
    router = DeviceMessageRouter(presence, max_payload_bytes=1024)
    router.register("things/*", lambda *_: {})

    outcome = router.handle(TOPIC, b'{"blob": "' + b"x" * 2000 + b'"}')

    assert not outcome.accepted and outcome.reason == "payload exceeds 1024 bytes"
    assert presence.seen_calls == []


class _DatabaseRefusal(Exception):
    """What PynamoDB raises when DynamoDB answers ValidationException (e.g. an item over 400 KB)."""

    cause_response_code = "ValidationException"


def test_a_request_the_database_refuses_is_permanent_but_other_failures_retry() -> None:
    def refused(*_: Any) -> dict[str, Any]:
        raise _DatabaseRefusal("Item size has exceeded the maximum allowed size")

    def broken(*_: Any) -> dict[str, Any]:
        raise ConnectionError("database unreachable")

    # A refusal that every redelivery would meet again is dropped with its reason
    outcome = router_with(refused)[0].handle(TOPIC, b"{}")
    assert not outcome.accepted and outcome.reason.startswith("refused by the database:")
    # Anything else may be transient: it raises, so the bridge keeps the message
    with pytest.raises(ConnectionError):
        router_with(broken)[0].handle(TOPIC, b"{}")


def test_a_device_back_from_being_away_triggers_the_return_hooks_once_after_its_message() -> None:
    # Given a router whose presence says the device is back, with a redelivery hook
    presence = FakePresence(returning=True)
    router = DeviceMessageRouter(presence)
    calls: list[str] = []
    router.register("things/*", lambda t, d, s, body: calls.append("handler") or {})
    router.register("commands/request", lambda t, d, s, body: calls.append("request") or {})
    router.on_return(lambda t, d: calls.append(f"return {t}/{d}"), unless_suffix="commands/request")
    # When its first message arrives, and then an explicit request
    router.handle(TOPIC, b"{}")
    router.handle("tenant/acme/device/d-1/commands/request", b"{}")
    # Then the hook ran after the message's own handler, and not again for the request (it redelivers itself)
    assert calls == ["handler", "return acme/d-1", "request"]


def test_a_failing_return_hook_does_not_reject_the_message() -> None:
    router = DeviceMessageRouter(FakePresence(returning=True))
    router.register("things/*", lambda *a: {"ok": True})

    def broken(tenant_id: str, device_id: str) -> None:
        raise RuntimeError("broker down")

    router.on_return(broken)

    assert router.handle(TOPIC, b"{}").accepted


def test_a_topic_root_gets_its_raw_messages_and_no_device_is_seen() -> None:
    # Given a handler of every topic under $fleet/claims (boards enrolling by claim have no device yet)
    presence = FakePresence()
    router = DeviceMessageRouter(presence)
    got: list[tuple[str, bytes]] = []
    router.register_topic_root("$fleet/claims", lambda topic, raw: got.append((topic, raw)) or {"accepted": True})
    # When a message arrives there, unparsed (even one that is not JSON)
    outcome = router.handle("$fleet/claims/claim-x/1/b/certificates/create/json", b"{not json")
    # Then the handler has the raw bytes, the outcome is its own, and presence is untouched
    assert outcome.accepted and got == [("$fleet/claims/claim-x/1/b/certificates/create/json", b"{not json")]
    assert presence.seen_calls == []
    # A topic that merely starts with the same letters is not under the root
    assert router.handle("$fleet/claimsX/a", b"{}").accepted is False and len(got) == 1


def test_a_topic_root_handler_rejecting_is_dropped_and_a_transient_failure_is_retried() -> None:
    router = DeviceMessageRouter(FakePresence())
    router.register_topic_root("$fleet/claims", lambda topic, raw: {"accepted": False, "errorCode": "AccessDenied"})
    rejected = router.handle("$fleet/claims/a", b"{}")
    assert (rejected.accepted, rejected.reason) == (False, "AccessDenied")

    def unavailable(topic: str, raw: bytes) -> dict[str, Any]:
        raise Unavailable("database away")

    def conflict(topic: str, raw: bytes) -> dict[str, Any]:
        raise Conflict("no")

    router.register_topic_root("$fleet/down", unavailable)
    router.register_topic_root("$fleet/conflict", conflict)
    with pytest.raises(Unavailable):
        router.handle("$fleet/down/a", b"{}")
    assert router.handle("$fleet/conflict/a", b"{}").accepted is False
