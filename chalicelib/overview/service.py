"""The overview: presence buckets, command outcomes and ACK latency, jobs in progress, twins."""
from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.storage.cursors import Page
from chalicelib.devices.presence import BUCKETS, Presence, PresenceWindows
from chalicelib.jobs.schemas import Job
from chalicelib.overview.schemas import (
    CommandOutcomes,
    DevicePresence,
    HourOutcomes,
    JobInProgress,
    JobsInProgress,
    LatencyBucket,
    LatencySummary,
    Outcome,
    Overview,
    SettledCommand,
    TwinSummary,
)
from chalicelib.overview.store import OverviewReader, ReadCost

WINDOW = timedelta(hours=24)
# Upper edges of the ACK latency histogram, in milliseconds (the last bucket is open).
LATENCY_EDGES_MS = (100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000)
# (tenant_id) -> one page of the tenant's jobs in progress, newest first.
JobsInProgressPage = Callable[[str], Page[Job]]


class OverviewService:
    """Builds the overview from bounded index reads; `requests` in the answer is what it cost."""

    def __init__(self, reader: OverviewReader, jobs_in_progress: JobsInProgressPage, windows: PresenceWindows,
                 clock: Clock = utcnow) -> None:
        self._reader = reader
        self._jobs = jobs_in_progress
        self._windows = windows
        self._clock = clock

    def overview(self, tenant_id: str) -> Overview:
        """The tenant's overview now."""
        now = self._clock()
        cost = ReadCost()
        devices = self._devices(self._reader.presence(tenant_id, cost), now, "devices" in cost.truncated)
        pending = self._reader.twins_pending(tenant_id, cost)
        since = now - WINDOW
        settled = self._reader.settled_since(tenant_id, since, cost)
        jobs = self._jobs(tenant_id)
        cost.requests += 1
        return Overview(
            generated_at=now,
            devices=devices,
            commands=outcomes(settled, since, now, "commands" in cost.truncated),
            jobs=JobsInProgress(count=len(jobs.items), more=jobs.next_token is not None,
                                jobs=[_job(j) for j in jobs.items]),
            twins=TwinSummary(pending=pending, stale=devices.stale,
                              truncated=bool(cost.truncated & {"devices", "twins"})),
            requests=cost.requests,
        )

    def settled(self, tenant_id: str, outcome: Outcome | None, hours: int, limit: int,
                next_token: str | None) -> Page[SettledCommand]:
        """A page of the commands behind an outcome number, newest first."""
        since = self._clock() - timedelta(hours=hours)
        return self._reader.settled_page(tenant_id, since, outcome, limit, next_token)

    def _devices(self, seen: list[str], now: datetime, truncated: bool) -> DevicePresence:
        counts = Counter(self._windows.bucket_of(value, now) for value in seen)
        buckets = {b.value: counts.get(b, 0) for b in BUCKETS}
        stale_lower, stale_upper = self._windows.bounds(Presence.STALE, now)
        stale = sum(1 for value in seen if stale_lower <= value < stale_upper)
        online = buckets[Presence.ONLINE.value]
        return DevicePresence(total=len(seen), online=online, offline=len(seen) - online, stale=stale,
                              buckets=buckets, truncated=truncated)


def outcomes(settled: list[SettledCommand], since: datetime, now: datetime, truncated: bool) -> CommandOutcomes:
    """Counts per outcome and per hour, and the ACK latency, of the commands settled in the window."""
    totals = {o: 0 for o in Outcome}
    first_hour = since.replace(minute=0, second=0, microsecond=0)
    hours = [first_hour + timedelta(hours=i) for i in range(int((now - first_hour) // timedelta(hours=1)) + 1)]
    hourly = {h: HourOutcomes(hour=h) for h in hours}
    for command in settled:
        outcome = Outcome(command.status)
        totals[outcome] += 1
        if command.published_at is None:
            totals[Outcome.PUBLISH_FAILED] += 1
        row = hourly.get(command.settled_at.replace(minute=0, second=0, microsecond=0))
        if row is not None:
            setattr(row, outcome.value, getattr(row, outcome.value) + 1)
    latencies = sorted(c.ack_latency_ms for c in settled if c.ack_latency_ms is not None)
    return CommandOutcomes(since=since, window_hours=int(WINDOW.total_seconds() // 3600), outcomes=totals,
                           hourly=list(hourly.values()), ack_latency=latency_summary(latencies), truncated=truncated)


def latency_summary(latencies: list[float]) -> LatencySummary:
    """Mean, median, 95th percentile, maximum and histogram of sorted latencies (ms)."""
    edges: list[int | None] = [*LATENCY_EDGES_MS, None]
    counts = [0] * len(edges)
    for value in latencies:
        counts[next(i for i, edge in enumerate(edges) if edge is None or value <= edge)] += 1
    histogram = [LatencyBucket(le_ms=edge, count=n) for edge, n in zip(edges, counts, strict=True)]
    if not latencies:
        return LatencySummary(count=0, histogram=histogram)
    return LatencySummary(count=len(latencies), avg_ms=round(statistics.fmean(latencies), 1),
                          p50_ms=round(_percentile(latencies, 0.5), 1), p95_ms=round(_percentile(latencies, 0.95), 1),
                          max_ms=round(latencies[-1], 1), histogram=histogram)


def _percentile(ordered: list[float], q: float) -> float:
    # Nearest rank: a latency that some ACK really had.
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _job(job: Job) -> JobInProgress:
    return JobInProgress(job_id=job.job_id, document_type=job.document_type, target_type=job.target_type,
                         target_id=job.target_id, execution_count=job.execution_count,
                         counts={s.value: n for s, n in job.counts.items()}, created_at=job.created_at)
