"""The overview's pure rules: presence buckets and their index ranges, outcome counts, ACK latency."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.devices.presence import BUCKETS, NEVER_SEEN, Presence, PresenceWindows, seen_sort
from chalicelib.overview.schemas import Outcome, SettledCommand
from chalicelib.overview.service import latency_summary, outcomes

NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
WINDOWS = PresenceWindows(online_s=120, stale_after=timedelta(hours=1))


@pytest.mark.parametrize(("age", "bucket"), [
    (timedelta(seconds=5), Presence.ONLINE), (timedelta(seconds=119), Presence.ONLINE),
    (timedelta(seconds=121), Presence.HOUR), (timedelta(minutes=59), Presence.HOUR),
    (timedelta(hours=2), Presence.DAY), (timedelta(days=3), Presence.WEEK), (timedelta(days=30), Presence.OLDER),
])
def test_a_presence_time_falls_in_exactly_the_bucket_whose_range_holds_it(age: timedelta, bucket: Presence) -> None:
    value = seen_sort(NOW - age)
    assert WINDOWS.bucket_of(value, NOW) is bucket
    holding = [b for b in BUCKETS if WINDOWS.bounds(b, NOW)[0] <= value < WINDOWS.bounds(b, NOW)[1]]
    assert holding == [bucket]
    offline_low, offline_high = WINDOWS.bounds(Presence.OFFLINE, NOW)
    assert (offline_low <= value < offline_high) is (bucket is not Presence.ONLINE)


def test_a_device_never_seen_is_in_never_offline_and_stale_only() -> None:
    assert WINDOWS.bucket_of(NEVER_SEEN, NOW) is Presence.NEVER
    for bucket in (Presence.NEVER, Presence.OFFLINE, Presence.STALE):
        low, high = WINDOWS.bounds(bucket, NOW)
        assert low <= NEVER_SEEN < high
    for bucket in BUCKETS[:-1]:
        low, high = WINDOWS.bounds(bucket, NOW)
        assert not low <= NEVER_SEEN < high


def test_a_stale_window_past_a_day_leaves_buckets_empty_but_never_overlapping() -> None:
    wide = PresenceWindows(online_s=120, stale_after=timedelta(days=2))
    value = seen_sort(NOW - timedelta(hours=30))
    assert [b for b in BUCKETS if wide.bounds(b, NOW)[0] <= value < wide.bounds(b, NOW)[1]] == [Presence.HOUR]


def settled(status: str, minutes_ago: float, latency_ms: float | None = None, published: bool = True) -> SettledCommand:
    at = NOW - timedelta(minutes=minutes_ago)
    return SettledCommand(command_id=f"c{minutes_ago}", device_id="d", command_type="ping", status=status,
                          published_at=at if published else None, settled_at=at, ack_latency_ms=latency_ms)


def test_outcomes_count_each_status_per_hour_and_the_publish_failures_beside_them() -> None:
    rows = [settled("delivered", 10, 120.0), settled("delivered", 70, 900.0), settled("missed", 75),
            settled("expired", 200, published=False)]
    counted = outcomes(rows, NOW - timedelta(hours=24), NOW, truncated=False)
    assert counted.outcomes == {Outcome.DELIVERED: 2, Outcome.MISSED: 1, Outcome.EXPIRED: 1,
                                Outcome.PUBLISH_FAILED: 1}
    assert len(counted.hourly) == 25  # the partial first hour, 23 whole ones and the current one
    current = counted.hourly[-1]
    assert current.hour == NOW.replace(minute=0) and (current.delivered, current.missed) == (1, 0)
    assert sum(h.delivered + h.missed + h.expired for h in counted.hourly) == 4
    assert counted.ack_latency.count == 2 and counted.ack_latency.max_ms == 900.0


def test_latency_summary_uses_nearest_rank_percentiles_and_a_histogram_that_sums_to_the_count() -> None:
    values = sorted(float(v) for v in range(1, 101))  # 1..100 ms
    summary = latency_summary(values)
    assert (summary.p50_ms, summary.p95_ms, summary.max_ms, summary.avg_ms) == (50.0, 95.0, 100.0, 50.5)
    assert sum(b.count for b in summary.histogram) == 100 and summary.histogram[0].le_ms == 100
    assert summary.histogram[-1].le_ms is None
    empty = latency_summary([])
    assert empty.count == 0 and empty.p95_ms is None and sum(b.count for b in empty.histogram) == 0
