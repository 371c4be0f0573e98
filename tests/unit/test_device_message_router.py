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


def _raising(exc: Exception) -> Any:
    def handler(*_: Any) -> dict[str, Any]:
        raise exc
    return handler


def _invalid_body(*_: Any) -> dict[str, Any]:
    return Body.model_validate({"count": "many"}).model_dump()


# (handler, the reason it is dropped with, or None when it must raise for a redelivery)
FAILURES = {
    "database refusal": (_raising(_DatabaseRefusal("Item size has exceeded the maximum allowed size")),
                         "refused by the database: Item size has exceeded the maximum allowed size"),
    "invalid body": (_invalid_body, "invalid payload: count: Input should be a valid integer, unable to parse "
                                    "string as an integer"),
    "domain error": (_raising(Conflict("already final")), "conflict: already final"),
    "unprocessable": (_raising(TypeError("bug")), "could not be processed: TypeError"),
    "unavailable": (_raising(Unavailable("database away")), None),
    "unreachable": (_raising(ConnectionError("database unreachable")), None),
}


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.parametrize("kind", ["device topic", "topic root"])
def test_every_kind_of_message_ends_a_failure_the_same_way(kind: str, failure: str) -> None:
    # Given a handler failing in one way, on a device topic or under a raw topic root (claim requests)
    handler, reason = FAILURES[failure]
    router = DeviceMessageRouter(FakePresence())
    router.register("things/*", handler)
    router.register_topic_root("$fleet/claims", handler)
    topic = TOPIC if kind == "device topic" else "$fleet/claims/claim-x/1/b/certificates/create/json"
    if reason is None:
        # Then a transient failure raises, so the bridge leaves the message for redelivery
        with pytest.raises((Unavailable, ConnectionError)):
            router.handle(topic, b"{}")
        return
    # Then bad input is dropped for good with its reason (the bridge counts the drop), never redelivered
    outcome = router.handle(topic, b"{}")
    assert (outcome.accepted, outcome.reason) == (False, reason)


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


def test_a_topic_root_handler_answering_a_rejection_is_dropped_with_its_error_code() -> None:
    router = DeviceMessageRouter(FakePresence())
    router.register_topic_root("$fleet/claims", lambda topic, raw: {"accepted": False, "errorCode": "AccessDenied"})
    rejected = router.handle("$fleet/claims/a", b"{}")
    assert (rejected.accepted, rejected.reason) == (False, "AccessDenied")
