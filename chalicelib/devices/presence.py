"""Presence buckets: how long ago a device was last heard from, as ranges of the by_seen index."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

# seen_sort of a device never heard from: sorts before every timestamp.
NEVER_SEEN = "0"
# Above every seen_sort value (timestamps start with a digit).
_TOP = "~"
# Just above NEVER_SEEN: the lower bound of "seen at least once".
_SEEN = NEVER_SEEN + "\x01"


def seen_sort(at: datetime) -> str:
    """The by_seen index's range key of a presence time: UTC text that sorts in time order."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Presence(StrEnum):
    """A bucket of last presence; `offline` and `stale` are unions the overview links to."""

    ONLINE = "online"  # heard from within away_after_s: connected now
    HOUR = "hour"  # away, but within the twin's stale window (1 h by default)
    DAY = "day"  # within 24 hours
    WEEK = "week"  # within 7 days
    OLDER = "older"
    NEVER = "never"
    OFFLINE = "offline"  # everything but online
    STALE = "stale"  # not heard from within the twin's stale window: its twin reads as stale


# The disjoint buckets, newest first: every device is in exactly one.
BUCKETS = (Presence.ONLINE, Presence.HOUR, Presence.DAY, Presence.WEEK, Presence.OLDER, Presence.NEVER)


@dataclass(frozen=True)
class PresenceWindows:
    """The bucket boundaries: `online_s` is the devices' away_after_s, `stale_after` the twin's window."""

    online_s: int
    stale_after: timedelta

    def bounds(self, bucket: Presence, now: datetime) -> tuple[str, str]:
        """The by_seen range of a bucket, as (lowest included, highest excluded) seen_sort values."""
        edges = self._edges(now)
        if bucket is Presence.NEVER:
            return NEVER_SEEN, _SEEN
        if bucket is Presence.OFFLINE:
            return NEVER_SEEN, edges[0]
        if bucket is Presence.STALE:
            return NEVER_SEEN, edges[1]
        i = BUCKETS.index(bucket)
        upper = _TOP if i == 0 else edges[i - 1]
        lower = edges[i] if i < len(edges) else _SEEN
        return lower, upper

    def bucket_of(self, value: str, now: datetime) -> Presence:
        """The disjoint bucket a seen_sort value falls in."""
        if value == NEVER_SEEN:
            return Presence.NEVER
        for bucket, edge in zip(BUCKETS, self._edges(now), strict=False):
            if value >= edge:
                return bucket
        return Presence.OLDER

    def _edges(self, now: datetime) -> tuple[str, ...]:
        # Lower edges of online, hour, day and week.
        ages = [timedelta(seconds=self.online_s), self.stale_after, timedelta(days=1), timedelta(days=7)]
        for i in range(1, len(ages)):
            ages[i] = max(ages[i], ages[i - 1])  # a stale window past a day leaves empty buckets, never overlaps
        return tuple(seen_sort(now - age) for age in ages)
