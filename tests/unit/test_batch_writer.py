"""BatchWriter: 25 items a request, unprocessed items resent with backoff, bounded attempts."""
from __future__ import annotations

import threading
from typing import Any

import pytest

from chalicelib.core.errors import Unavailable
from chalicelib.core.storage.batch import BatchWriter


class FakeDynamo:
    """Accepts batches, leaving the first `throttle` items of each first attempt unprocessed."""

    def __init__(self, throttle: int = 0, always_throttle: bool = False) -> None:
        self.throttle = throttle
        self.always = always_throttle
        self.requests: list[tuple[int, int]] = []
        self.stored: set[str] = set()
        self.deleted: set[str] = set()
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def send(self, puts: list[dict[str, Any]], deletes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self._lock:
            self.requests.append((len(puts), len(deletes)))
            unprocessed = []
            for i, item in enumerate(puts):
                key = item["id"]["S"]
                if self.always or (i < self.throttle and key not in self._seen):
                    self._seen.add(key)
                    unprocessed.append({"PutRequest": {"Item": item}})
                else:
                    self.stored.add(key)
            for key_item in deletes:
                self.deleted.add(key_item["id"]["S"])
            return unprocessed


def items(n: int) -> list[dict[str, Any]]:
    return [{"id": {"S": f"i{k}"}} for k in range(n)]


def test_writes_in_requests_of_at_most_25_items() -> None:
    db = FakeDynamo()
    stats = BatchWriter(db.send, workers=1).write(puts=items(60))
    assert [p for p, _ in db.requests] == [25, 25, 10]
    assert stats.requests == 3 and len(db.stored) == 60


def test_a_10000_item_fan_out_takes_400_requests_with_parallel_workers() -> None:
    db = FakeDynamo()
    stats = BatchWriter(db.send, workers=4).write(puts=items(10_000))
    assert stats.requests == 400 and len(db.stored) == 10_000


def test_unprocessed_items_are_resent_after_a_backoff() -> None:
    db = FakeDynamo(throttle=5)
    sleeps: list[float] = []
    stats = BatchWriter(db.send, workers=1, sleep=sleeps.append).write(puts=items(30))
    assert len(db.stored) == 30
    assert stats.retried_items == 10 and stats.requests == 4
    assert len(sleeps) == 2 and all(0 <= s <= 2.0 for s in sleeps)
    assert db.requests[1] == (5, 0)


def test_gives_up_as_unavailable_after_max_attempts() -> None:
    db = FakeDynamo(always_throttle=True)
    writer = BatchWriter(db.send, workers=1, max_attempts=3, sleep=lambda s: None)
    with pytest.raises(Unavailable):
        writer.write(puts=items(3))
    assert len(db.requests) == 3


def test_deletes_share_the_batches_with_puts() -> None:
    db = FakeDynamo()
    stats = BatchWriter(db.send, workers=1).write(puts=items(20), deletes=[{"id": {"S": "old"}}] * 10)
    assert stats.requests == 2 and db.deleted == {"old"} and len(db.stored) == 20
