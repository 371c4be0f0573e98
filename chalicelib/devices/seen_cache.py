"""A process's recent reads of devices for the MQTT message path: status and last seen, briefly trusted."""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.devices.schemas import DeviceStatus

# Bounded, so a fleet passing through one warm function costs memory for its busiest devices only.
MAX_ENTRIES = 20_000


@dataclass(frozen=True)
class Seen:
    """What the message path needs of a device, and when it was read."""

    status: DeviceStatus
    last_seen_at: datetime | None
    read_at: datetime


class PresenceCache:
    """Least-recently-used reads, each trusted for `ttl` after it was made (a zero ttl keeps nothing)."""

    def __init__(self, ttl: timedelta, max_entries: int = MAX_ENTRIES) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._items: OrderedDict[tuple[str, str], Seen] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, tenant_id: str, device_id: str, now: datetime) -> Seen | None:
        """The read of this device if it is younger than the ttl."""
        with self._lock:
            seen = self._items.get((tenant_id, device_id))
            if seen is None or now - seen.read_at >= self._ttl or now < seen.read_at:
                return None
            self._items.move_to_end((tenant_id, device_id))
            return seen

    def put(self, tenant_id: str, device_id: str, seen: Seen) -> Seen:
        """Keep a read (or its update after a presence write); returns it."""
        if self._ttl <= timedelta(0):
            return seen
        with self._lock:
            self._items[(tenant_id, device_id)] = seen
            self._items.move_to_end((tenant_id, device_id))
            while len(self._items) > self._max:
                self._items.popitem(last=False)
        return seen

    def forget(self, tenant_id: str, device_id: str) -> None:
        """Drop the read (the device changed here, or another process wrote its presence)."""
        with self._lock:
            self._items.pop((tenant_id, device_id), None)
