"""The one clock type, the default clock, our timestamp format, and the scheduled event's time."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalice.app import CloudWatchEvent

# Services take a clock so tests can set the time; utcnow is the default everywhere.
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """Timezone-aware now; services pass their own clock, this is the default."""
    return datetime.now(timezone.utc)


def iso(ts: datetime | None) -> str | None:
    """ISO-8601 with a Z suffix, the only timestamp format we store and return."""
    if ts is None:
        return None
    return ts.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: str | None) -> datetime | None:
    """Inverse of iso()."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def event_time(event: CloudWatchEvent) -> datetime:
    """The instant the schedule fired (EventBridge's `time`), or now when absent."""
    raw = getattr(event, "time", None) or ""
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return utcnow()
