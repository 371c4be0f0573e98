"""Reading the scheduled event's time."""
from __future__ import annotations

from datetime import datetime, timezone

from chalice.app import CloudWatchEvent


def event_time(event: CloudWatchEvent) -> datetime:
    """The instant the schedule fired (EventBridge's `time`), or now when absent."""
    raw = getattr(event, "time", None) or ""
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(timezone.utc)
