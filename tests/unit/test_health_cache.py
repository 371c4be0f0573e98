"""/health answers from the last known state; the backlogs are only in the detailed report."""
from __future__ import annotations

from chalicelib.core.messaging.base import RecordingPublisher
from chalicelib.health.service import FAILED_TTL_S, HealthService


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingProbe:
    def __init__(self) -> None:
        self.calls = 0
        self.failing = False

    def __call__(self) -> object:
        self.calls += 1
        if self.failing:
            raise ConnectionError("database down")
        return 7


def _service(clock: Clock, db: CountingProbe, backlog: CountingProbe) -> HealthService:
    return HealthService("1.0", RecordingPublisher(), db,
                         {"command_queue": lambda _tenant: {"awaiting_publish": backlog()}},
                         ttl_s=10.0, monotonic=clock)


def test_health_probes_the_database_once_per_ttl_and_never_counts_backlogs() -> None:
    clock, db, backlog = Clock(), CountingProbe(), CountingProbe()
    health = _service(clock, db, backlog)
    # When /health is asked many times within the TTL
    for _ in range(50):
        report = health.check()
    # Then the database was probed once, the backlog never, and the answer says how old it is
    assert db.calls == 1 and backlog.calls == 0
    assert report["status"] == "ok" and "command_queue" not in report
    clock.now += 4
    assert health.check()["database"]["age_s"] == 4.0
    # And after the TTL it is probed again
    clock.now += 7
    health.check()
    assert db.calls == 2


def test_a_failing_dependency_is_probed_again_within_a_second() -> None:
    clock, db, backlog = Clock(), CountingProbe(), CountingProbe()
    health = _service(clock, db, backlog)
    db.failing = True
    assert health.check()["status"] == "degraded"
    # When the database is back
    db.failing = False
    clock.now += FAILED_TTL_S
    # Then the next answer sees it, without waiting for the full TTL
    report = health.check()
    assert report["status"] == "ok" and report["database"]["ok"] is True and db.calls == 2


def test_details_add_the_backlogs_read_now() -> None:
    clock, db, backlog = Clock(), CountingProbe(), CountingProbe()
    health = _service(clock, db, backlog)
    first = health.details("acme")
    second = health.details("acme")
    assert first["command_queue"] == {"awaiting_publish": 7} and second["status"] == "ok"
    assert backlog.calls == 2 and db.calls == 1


def test_details_count_the_callers_tenant_only() -> None:
    # Given a backlog probe that counts per tenant
    seen: list[str] = []
    health = HealthService("1.0", RecordingPublisher(), CountingProbe(),
                           {"command_queue": lambda tenant: seen.append(tenant) or {"awaiting_publish": 0}})
    # When an operator of acme reads the details
    health.details("acme")
    # Then the probe was asked for acme's share, not the fleet's
    assert seen == ["acme"]
