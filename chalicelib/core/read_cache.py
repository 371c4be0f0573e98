"""Recent reads a process briefly trusts: least recently used first out, each for a ttl after it was made."""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

# Bounded, so a fleet passing through one warm function costs memory for its busiest devices only.
MAX_ENTRIES = 20_000


class _Read(Protocol):
    @property
    def read_at(self) -> datetime: ...


K = TypeVar("K", bound=Hashable)
V = TypeVar("V", bound=_Read)


class ReadCache(Generic[K, V]):
    """Least-recently-used reads, each trusted for `ttl` after it was made (a zero ttl keeps nothing)."""

    def __init__(self, ttl: timedelta, max_entries: int = MAX_ENTRIES) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, now: datetime) -> V | None:
        """The read if it is younger than the ttl (a read from the future, after a clock step, is not)."""
        with self._lock:
            value = self._items.get(key)
            if value is None or now - value.read_at >= self._ttl or now < value.read_at:
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> V:
        """Keep a read (or its update after a write); returns it."""
        if self._ttl <= timedelta(0):
            return value
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)
        return value

    def forget(self, key: K) -> None:
        """Drop one read."""
        with self._lock:
            self._items.pop(key, None)

    def forget_where(self, matches: Callable[[V], bool]) -> None:
        """Drop every read that matches (a linear pass: for rare operator actions only)."""
        with self._lock:
            for key in [k for k, v in self._items.items() if matches(v)]:
                del self._items[key]
