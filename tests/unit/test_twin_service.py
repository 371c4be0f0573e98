"""TwinService over an in-memory twin repository and the recording publisher."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.core.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, Unavailable
from chalicelib.core.messaging.base import RecordingPublisher
from chalicelib.twin.schemas import PatchDesired, ReportState, Twin
from chalicelib.twin.service import TwinLimits, TwinService
from tests.support import Clock

T, D = "t1", "d1"


class FakeTwins:
    """TwinRepository in memory, with the same revision check; can inject a racing writer."""

    def __init__(self) -> None:
        self.twins: dict[tuple[str, str], Twin] = {(T, D): Twin(tenant_id=T, device_id=D)}
        self.gets = 0
        self.writes = 0
        self.race: list[dict[str, Any]] = []  # updates another writer lands before our next write

    def get(self, tenant_id: str, device_id: str) -> Twin:
        self.gets += 1
        if (tenant_id, device_id) not in self.twins:
            raise NotFound(f"device {device_id} not found", field="device_id")
        return self.twins[(tenant_id, device_id)].model_copy(deep=True)

    def _write(self, read: Twin, now: datetime, counter: str, **fields: Any) -> bool:
        # Like the real one: each document's write is conditioned on its own counter.
        self.writes += 1
        key = (read.tenant_id, read.device_id)
        if self.race:
            self.twins[key] = self.twins[key].model_copy(update=self.race.pop(0))
        if getattr(self.twins[key], counter) != getattr(read, counter):
            return False
        self.twins[key] = self.twins[key].model_copy(update={**fields, "shadow_updated_at": now})
        return True

    def write_desired(self, read: Twin, desired: dict[str, Any], metadata: dict[str, Any], version: int,
                      now: datetime) -> bool:
        return self._write(read, now, "desired_version", desired=desired, desired_metadata=metadata,
                           desired_version=version)

    def write_reported(self, read: Twin, reported: dict[str, Any], metadata: dict[str, Any], version: int,
                       now: datetime) -> bool:
        return self._write(read, now, "reported_revision", reported=reported, reported_metadata=metadata,
                           reported_version=version, reported_revision=read.reported_revision + 1)


@pytest.fixture
def parts() -> tuple[TwinService, FakeTwins, RecordingPublisher, Clock]:
    twins, publisher = FakeTwins(), RecordingPublisher()
    clock = Clock(datetime(2030, 1, 1, tzinfo=UTC))
    twins.twins[(T, D)] = Twin(tenant_id=T, device_id=D, last_seen_at=clock.now)
    service = TwinService(twins, publisher, TwinLimits(max_doc_bytes=200, max_depth=3, write_attempts=4),
                          clock=clock, sleep=lambda s: None, jitter=lambda: 0.5)
    return service, twins, publisher, clock


def test_patch_merges_bumps_version_and_publishes_retained(parts: Any) -> None:
    service, twins, publisher, _ = parts
    service.patch_desired(T, D, PatchDesired(desired={"a": 1, "b": 2}))
    # When a second PATCH deletes one key and changes another
    view = service.patch_desired(T, D, PatchDesired(desired={"a": None, "b": 3}))
    # Then desired is merged, the version is 2, the twin is pending
    assert view["desired"] == {"b": 3} and view["desired_version"] == 2
    assert view["sync_status"] == "pending" and view["published"] is True
    assert view["metadata"]["desired"] == {"b": {"timestamp": "2030-01-01T00:00:00.000Z"}}
    last = publisher.sent[-1]
    assert last.topic == "tenant/t1/device/d1/shadow/desired"
    assert last.retain and last.qos == 1 and last.payload == {"desired": {"b": 3}, "version": 2}
    assert twins.writes == 2  # one UpdateItem per PATCH


def test_patch_with_stale_version_is_409_with_current_version(parts: Any) -> None:
    service, _, publisher, _ = parts
    service.patch_desired(T, D, PatchDesired(desired={"a": 1}, version=0))
    with pytest.raises(Conflict) as err:
        service.patch_desired(T, D, PatchDesired(desired={"a": 2}, version=0))
    assert err.value.field == "version" and err.value.extra["current"] == 1
    assert len(publisher.sent) == 1


def test_patch_retries_when_another_write_lands_first_and_keeps_its_keys(parts: Any) -> None:
    service, twins, _, _ = parts
    # Given another writer that lands desired {"other": 1} v1 between our read and write
    twins.race.append({"desired": {"other": 1}, "desired_version": 1})
    view = service.patch_desired(T, D, PatchDesired(desired={"mine": 2}))
    # Then our write is redone on top of it: no lost key, consecutive version
    assert view["desired"] == {"other": 1, "mine": 2} and view["desired_version"] == 2
    assert twins.writes == 2


def test_expected_version_is_rechecked_after_a_lost_race(parts: Any) -> None:
    service, twins, _, _ = parts
    twins.race.append({"desired": {"other": 1}, "desired_version": 1})
    with pytest.raises(Conflict) as err:
        service.patch_desired(T, D, PatchDesired(desired={"mine": 2}, version=0))
    assert err.value.extra["current"] == 1


def test_endless_contention_gives_up_as_retryable_503(parts: Any) -> None:
    # Given a twin that changes under every attempt
    service, twins, _, _ = parts
    twins.race.extend({"desired_version": n} for n in range(1, 10))
    # Then the update gives up after its attempts as Unavailable (503): over MQTT the bridge
    # must redeliver such a report rather than drop it as refused
    with pytest.raises(Unavailable):
        service.patch_desired(T, D, PatchDesired(desired={"a": 1}))
    assert twins.writes == 4


def test_failed_publish_still_stores_desired(parts: Any) -> None:
    service, twins, publisher, _ = parts
    publisher.reachable = False
    view = service.patch_desired(T, D, PatchDesired(desired={"a": 1}))
    assert view["published"] is False and twins.twins[(T, D)].desired == {"a": 1}


def test_report_with_version_syncs_and_without_only_changes_state(parts: Any) -> None:
    service, _, _, _ = parts
    service.patch_desired(T, D, PatchDesired(desired={"a": 1}))
    assert service.report(T, D, ReportState(reported={"fw": "1.2"})) == {"accepted": True, "version": 0}
    assert service.view(T, D)["sync_status"] == "pending"
    assert service.report(T, D, ReportState(reported={"a": 1}, version=1)) == {"accepted": True, "version": 1}
    view = service.view(T, D)
    assert view["sync_status"] == "synced" and view["reported"] == {"fw": "1.2", "a": 1} and view["delta"] == {}


def test_report_newer_than_desired_is_409(parts: Any) -> None:
    service, twins, _, _ = parts
    with pytest.raises(Conflict) as err:
        service.report(T, D, ReportState(reported={"a": 1}, version=1))
    assert err.value.field == "version" and err.value.extra["current"] == 0
    assert twins.writes == 0


def test_duplicate_report_writes_nothing(parts: Any) -> None:
    service, twins, _, _ = parts
    service.patch_desired(T, D, PatchDesired(desired={"a": 1}))
    service.report(T, D, ReportState(reported={"a": 1}, version=1))
    writes = twins.writes
    assert service.report(T, D, ReportState(reported={"a": 1}, version=1)) == {"accepted": True, "version": 1}
    assert twins.writes == writes


def test_report_of_an_old_version_republishes_the_current_desired(parts: Any) -> None:
    service, _, publisher, _ = parts
    service.patch_desired(T, D, PatchDesired(desired={"a": 1}))
    service.patch_desired(T, D, PatchDesired(desired={"a": 2}))
    sent = len(publisher.sent)
    # When the device confirms v1 (an out-of-order retained message reached it)
    assert service.report(T, D, ReportState(reported={"a": 1}, version=1))["version"] == 1
    # Then v2 is published again, retained
    assert len(publisher.sent) == sent + 1
    assert publisher.sent[-1].payload == {"desired": {"a": 2}, "version": 2} and publisher.sent[-1].retain


def test_reported_version_never_goes_back(parts: Any) -> None:
    service, _, _, _ = parts
    for v in (1, 2):
        service.patch_desired(T, D, PatchDesired(desired={"a": v}))
    service.report(T, D, ReportState(reported={"a": 2}, version=2))
    assert service.report(T, D, ReportState(reported={"b": 1}, version=1))["version"] == 2


def test_documents_over_the_size_limit_are_413_naming_it(parts: Any) -> None:
    service, twins, _, _ = parts
    with pytest.raises(PayloadTooLarge) as err:
        service.patch_desired(T, D, PatchDesired(desired={"blob": "x" * 300}))
    assert err.value.field == "desired" and err.value.extra["limit"] == 200 and "200 bytes" in err.value.message
    # The limit is on the merged document: many small patches cannot grow it past the bound.
    for i in range(5):
        service.patch_desired(T, D, PatchDesired(desired={f"k{i}": "y" * 20}))
    with pytest.raises(PayloadTooLarge):
        service.patch_desired(T, D, PatchDesired(desired={"k9": "y" * 60}))
    with pytest.raises(PayloadTooLarge) as rep:
        service.report(T, D, ReportState(reported={"blob": "x" * 300}))
    assert rep.value.field == "reported"
    assert twins.twins[(T, D)].desired_version == 5


def test_documents_nested_too_deep_are_400_naming_the_limit(parts: Any) -> None:
    service, twins, _, _ = parts
    with pytest.raises(InvalidInput) as err:
        service.patch_desired(T, D, PatchDesired(desired={"a": {"b": {"c": {"d": 1}}}}))
    assert err.value.field == "desired" and err.value.extra["limit"] == 3
    with pytest.raises(InvalidInput):
        service.report(T, D, ReportState(reported={"a": [[[1]]]}))
    assert twins.gets == 0  # rejected before any read


def test_twin_is_stale_when_the_device_was_not_seen_recently(parts: Any) -> None:
    service, _, _, clock = parts
    assert service.view(T, D)["sync_status"] == "synced"
    clock.advance(hours=2)
    assert service.view(T, D)["sync_status"] == "stale"


def test_delta_view_reports_in_sync_only_without_delta(parts: Any) -> None:
    service, _, _, _ = parts
    service.patch_desired(T, D, PatchDesired(desired={"a": 1, "b": {"c": 2}}))
    service.report(T, D, ReportState(reported={"a": 1, "b": {"c": 3}, "x": 0}, version=1))
    assert service.delta(T, D) == {"delta": {"b": {"c": 2}}, "in_sync": False,
                                   "desired_version": 1, "reported_version": 1}


def test_mqtt_handler_validates_the_payload(parts: Any) -> None:
    service, _, _, _ = parts
    with pytest.raises(ValueError):
        service.on_reported_message(T, D, "shadow/reported", {"reported": {"a": 1}, "version": True})
    assert service.on_reported_message(T, D, "shadow/reported", {"reported": {"a": 1}}) == {
        "accepted": True, "version": 0}


def test_unknown_device_is_not_found(parts: Any) -> None:
    service, _, _, _ = parts
    with pytest.raises(NotFound):
        service.view(T, "nope")


def test_a_patch_and_a_report_landing_together_do_not_conflict(parts: Any) -> None:
    # Given a device report that lands while this PATCH is being computed
    service, twins, _, _ = parts
    twins.race.append({"reported": {"temp": 21}, "reported_revision": 1})
    # When the PATCH writes
    view = service.patch_desired(T, D, PatchDesired(desired={"a": 1}))
    # Then it wins on its first write (desired and reported are guarded separately) and keeps both
    assert twins.writes == 1 and view["desired_version"] == 1
    assert twins.twins[(T, D)].reported == {"temp": 21} and twins.twins[(T, D)].desired == {"a": 1}


def test_a_report_racing_an_operator_patch_is_written_first_time(parts: Any) -> None:
    # Given an operator PATCH that lands while the device's report is being computed
    service, twins, _, _ = parts
    twins.race.append({"desired": {"a": 1}, "desired_version": 1})
    # When the report (of a spontaneous change) writes
    result = service.report(T, D, ReportState(reported={"temp": 22}))
    # Then it is stored on its first write and the PATCH's document is untouched
    assert result["accepted"] and twins.writes == 1
    assert twins.twins[(T, D)].desired == {"a": 1} and twins.twins[(T, D)].reported == {"temp": 22}


def test_two_reports_racing_retry_on_the_reported_revision(parts: Any) -> None:
    # Given another report of the same device landing first
    service, twins, _, _ = parts
    twins.race.append({"reported": {"temp": 20, "door": "open"}, "reported_revision": 1})
    # When this report writes
    service.report(T, D, ReportState(reported={"temp": 23}))
    # Then its first write loses, the retry merges into the other report: nothing is lost
    assert twins.writes == 2
    assert twins.twins[(T, D)].reported == {"temp": 23, "door": "open"}


def test_a_republish_after_an_old_report_never_retains_an_older_document(parts: Any) -> None:
    # Given desired v1, and a device confirming v0's state while a PATCH to v2 lands
    service, twins, publisher, _ = parts
    service.patch_desired(T, D, PatchDesired(desired={"mode": "v1"}))
    twins.race.append({"desired": {"mode": "v2"}, "desired_version": 2})
    service.report(T, D, ReportState(reported={"mode": "v0"}, version=0))
    # Then the heal republishes what is desired now (v2), not the v1 the report had read
    assert publisher.sent[-1].payload == {"desired": {"mode": "v2"}, "version": 2} and publisher.sent[-1].retain
