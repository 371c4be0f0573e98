"""AWS IoT shadow rules over in-memory stores: the cases where moto's shadow differs from AWS IoT."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.aws_iot.shadow import INVALID_NAME, ShadowService
from chalicelib.aws_iot.shadow_schemas import ShadowDoc, ShadowRejected, parse_update
from chalicelib.core.config import Settings
from chalicelib.core.errors import NotFound, Unavailable
from chalicelib.core.messaging.base import RecordingPublisher
from chalicelib.twin.schemas import Twin
from chalicelib.twin.service import TwinLimits
from tests.support import Clock

T, D = "t1", "d1"
PREFIX = "$aws/things/t1.d1/shadow"


class FakeTwins:
    """TwinRepository's whole-document write, conditioned on shadow_version like the real one."""

    def __init__(self) -> None:
        self.twin = Twin(tenant_id=T, device_id=D)

    def get(self, tenant_id: str, device_id: str) -> Twin:
        if (tenant_id, device_id) != (T, D):
            raise NotFound("device not found", field="device_id")
        return self.twin.model_copy(deep=True)

    def write_document(self, read: Twin, written: Twin, now: datetime) -> bool:
        if self.twin.shadow_version != read.shadow_version:
            return False
        self.twin = written.model_copy(update={"shadow_version": read.shadow_version + 1, "shadow_updated_at": now})
        return True


class FakeNamed:
    def __init__(self) -> None:
        self.docs: dict[str, ShadowDoc] = {}

    def get(self, tenant_id: str, device_id: str, name: str) -> ShadowDoc | None:
        return self.docs.get(name)

    def put(self, tenant_id: str, device_id: str, name: str, read: ShadowDoc | None, doc: ShadowDoc) -> bool:
        if (self.docs[name].version if name in self.docs else None) != (read.version if read else None):
            return False
        self.docs[name] = doc
        return True

    def names(self, tenant_id: str, device_id: str, limit: int = 100) -> list[str]:
        return sorted(self.docs)[:limit]

    def delete(self, tenant_id: str, device_id: str, name: str, read: ShadowDoc) -> bool:
        if name not in self.docs or self.docs[name].version != read.version:
            return False
        del self.docs[name]
        return True


@pytest.fixture
def parts() -> tuple[ShadowService, FakeTwins, RecordingPublisher]:
    twins, publisher = FakeTwins(), RecordingPublisher()
    service = ShadowService(twins, FakeNamed(), publisher, TwinLimits(max_doc_bytes=200, max_depth=3),
                            clock=Clock(datetime(2030, 1, 1, tzinfo=UTC)), sleep=lambda s: None)
    return service, twins, publisher


def _update(service: ShadowService, state: dict[str, Any], name: str | None = None, **extra: Any) -> dict[str, Any]:
    route = "$aws/shadow/update" if name is None else f"$aws/shadow/name/{name}/update"
    return service.on_message(T, D, route, {"state": state, **extra})


def _sent(publisher: RecordingPublisher, suffix: str) -> list[Any]:
    return [m.payload for m in publisher.sent if m.topic.endswith(suffix)]


def test_desired_that_is_a_subset_of_reported_has_no_delta(parts: Any) -> None:
    service, _, publisher = parts
    _update(service, {"reported": {"led": {"r": 1, "g": 2}}})
    # When desired asks for what is already reported (moto answers `{"led": {}}`)
    _update(service, {"desired": {"led": {"r": 1}}})
    # Then there is no delta, no delta event, and get shows no delta key
    assert _sent(publisher, "/update/delta") == []
    assert "delta" not in service.on_message(T, D, "$aws/shadow/get", {})["state"]


def test_deleting_the_last_nested_key_leaves_nothing_behind(parts: Any) -> None:
    service, twins, publisher = parts
    _update(service, {"desired": {"led": {"r": 1}}})
    # When the last key of a nested object is deleted (moto leaves `{}`)
    _update(service, {"desired": {"led": {"r": None}, "keep": 1}})
    assert twins.twin.desired == {"keep": 1}
    assert _sent(publisher, "/update/delta")[-1]["state"] == {"keep": 1}


def test_true_and_one_are_different_values(parts: Any) -> None:
    service, twins, publisher = parts
    _update(service, {"reported": {"fan": 1}})
    _update(service, {"desired": {"fan": True}})
    assert _sent(publisher, "/update/delta")[-1]["state"] == {"fan": True}
    # And a device reporting `true` brings the twin in sync
    _update(service, {"reported": {"fan": True}})
    assert twins.twin.reported_version == twins.twin.desired_version


def test_arrays_compare_and_travel_whole(parts: Any) -> None:
    service, _, publisher = parts
    _update(service, {"reported": {"list": [1, 2]}})
    _update(service, {"desired": {"list": [1, 2, 3]}})
    assert _sent(publisher, "/update/delta")[-1]["state"] == {"list": [1, 2, 3]}
    _update(service, {"desired": {"list": [1, 2]}})
    assert len(_sent(publisher, "/update/delta")) == 1


def test_every_write_bumps_the_one_version_and_accepted_echoes_the_token(parts: Any) -> None:
    service, twins, publisher = parts
    first = _update(service, {"desired": {"a": 1}}, clientToken="c1")
    second = _update(service, {"reported": {"a": 1}}, clientToken="c2", version=1)
    assert (first["version"], second["version"]) == (1, 2)
    assert second["clientToken"] == "c2" and second["metadata"] == {"reported": {"a": {"timestamp": 1893456000}}}
    # The device's report that empties the delta is its confirmation of the desired version
    assert twins.twin.reported_version == twins.twin.desired_version == 1
    documents = _sent(publisher, "/update/documents")[-1]
    assert documents["previous"]["version"] == 1 and documents["current"]["version"] == 2


@pytest.mark.parametrize(("body", "code", "message"), [
    ({"clientToken": "x"}, 400, "Missing required node: state"),
    ({"state": []}, 400, "State node must be an object"),
    ({"state": {"desired": 5}}, 400, "Desired node must be an object"),
    ({"state": {"wanted": {}}}, 400, "State contains an invalid node"),
    ({"state": {"reported": {}}, "version": "1"}, 400, "Invalid version"),
    ({"state": {"reported": {"a": {"b": {"c": {"d": 1}}}}}}, 400,
     "JSON contains too many levels of nesting; maximum is 3"),
    ({"state": {"reported": {"blob": "x" * 300}}}, 413, "The payload exceeds the maximum size allowed"),
    ({"state": {"reported": {"a": 1}}, "version": 7}, 409, "Version conflict"),
])
def test_refused_updates_answer_with_aws_codes_and_change_nothing(parts: Any, body: dict[str, Any], code: int,
                                                                  message: str) -> None:
    service, twins, publisher = parts
    service.on_message(T, D, "$aws/shadow/update", {**body, "clientToken": "tok"})
    rejected = _sent(publisher, "/update/rejected")[-1]
    assert rejected == {"code": code, "message": message, "timestamp": 1893456000, "clientToken": "tok"}
    assert twins.twin.shadow_version == 0


def test_get_and_delete_of_a_missing_shadow_are_404(parts: Any) -> None:
    service, _, publisher = parts
    service.on_message(T, D, "$aws/shadow/get", {"clientToken": "g"})
    service.on_message(T, D, "$aws/shadow/name/cfg/delete", {})
    assert _sent(publisher, "/shadow/get/rejected")[-1]["code"] == 404
    assert _sent(publisher, "/name/cfg/delete/rejected")[-1]["message"] == "No shadow exists with name: 'cfg'"


def test_delete_empties_the_classic_shadow_and_keeps_counting(parts: Any) -> None:
    service, twins, publisher = parts
    _update(service, {"desired": {"a": 1}})
    service.on_message(T, D, "$aws/shadow/delete", {"clientToken": "d"})
    assert _sent(publisher, "/delete/accepted")[-1] == {"version": 2, "timestamp": 1893456000, "clientToken": "d"}
    assert (twins.twin.desired, twins.twin.reported) == ({}, {})
    # Project-topic devices are told the desired document is now empty
    assert publisher.sent[-2].topic == "tenant/t1/device/d1/shadow/desired"


def test_named_shadows_are_separate_documents(parts: Any) -> None:
    service, twins, publisher = parts
    _update(service, {"desired": {"rate": 5}}, name="cfg")
    assert twins.twin.desired == {}
    assert _sent(publisher, f"{PREFIX}/name/cfg/update/delta")[-1]["state"] == {"rate": 5}


def test_a_request_that_is_not_json_is_rejected_on_its_topic(parts: Any) -> None:
    service, _, publisher = parts
    service.reject(T, D, "$aws/shadow/name/cfg/update", 400, "payload is not JSON")
    assert publisher.sent[-1].topic == f"{PREFIX}/name/cfg/update/rejected"
    assert publisher.sent[-1].payload["message"] == "Invalid JSON"


def test_state_null_clears_both_documents() -> None:
    parsed = parse_update({"state": None})
    assert parsed.clear_desired and parsed.clear_reported
    with pytest.raises(ShadowRejected):
        parse_update({"state": {}, "clientToken": "x" * 65})


def test_aws_topics_are_served_with_a_self_hosted_broker_unless_turned_off() -> None:
    assert Settings(mqtt_backend="paho").serves_aws_iot_topics()
    # AWS IoT Core answers these topics itself and refuses publishes to them
    assert not Settings(mqtt_backend="iot-data").serves_aws_iot_topics()
    assert not Settings(mqtt_backend="paho", aws_iot_topics=False).serves_aws_iot_topics()


def test_a_lost_race_is_retried_and_endless_contention_is_transient(parts: Any) -> None:
    service, twins, _ = parts
    real = twins.write_document
    losses = [True]

    def racing(read: Twin, written: Twin, now: datetime) -> bool:
        if losses and losses.pop():
            twins.twin = twins.twin.model_copy(update={"shadow_version": twins.twin.shadow_version + 1,
                                                       "reported": {"other": 1}})
            return False
        return real(read, written, now)

    twins.write_document = racing
    # Given another writer winning the first attempt, the update is merged into its result
    assert _update(service, {"reported": {"mine": 1}})["version"] == 2
    assert twins.twin.reported == {"other": 1, "mine": 1}
    # When every attempt loses, the request is left for redelivery (503), not refused
    twins.write_document = lambda read, written, now: False
    with pytest.raises(Unavailable):
        _update(service, {"reported": {"x": 1}})


def test_a_malformed_shadow_name_is_answered_on_its_rejected_topic_with_the_token(parts: Any) -> None:
    from chalicelib.ingress.router import DeviceMessageRouter

    service, _, publisher = parts
    router = DeviceMessageRouter(_Present())
    router.register("$aws/shadow/*", service.on_message, reject=service.reject)
    name = "n" * 65
    # When a device asks for a shadow whose name is one character too long
    outcome = router.handle(f"{PREFIX}/name/{name}/get", b'{"clientToken": "c-1"}')
    # Then it is answered as AWS answers it, on the request's own /rejected topic, with its token
    [answer] = publisher.sent
    assert answer.topic == f"{PREFIX}/name/{name}/get/rejected"
    assert answer.payload is not None and answer.payload["code"] == 400 and answer.payload["clientToken"] == "c-1"
    assert "shadowName" in answer.payload["message"] and outcome.result == {"rejected": 400, "message": INVALID_NAME}
    # And a topic level no publish can carry is not a request at all (nothing to answer on)
    assert not router.handle(f"{PREFIX}/name/a+b/get", b"{}").accepted and len(publisher.sent) == 1


class _Present:
    def seen(self, tenant_id: str, device_id: str) -> bool:
        return False
