"""BatchWriteItem in 25-item requests, a few in parallel, retrying unprocessed items with backoff."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from itertools import islice
from typing import Any

from pynamodb.models import Model

from chalicelib.core.errors import Unavailable
from chalicelib.core.retry import RetryPolicy

BATCH_LIMIT = 25
# Resending what DynamoDB left unprocessed (throttling, partition limits): 0.1 s, 0.2 s, ... 2 s, full jitter.
UNPROCESSED_RETRY = RetryPolicy(min_s=0.1, max_s=2.0, max_attempts=8, jitter=1.0)
RawItem = dict[str, Any]
# send(puts, deletes) -> the write requests DynamoDB left unprocessed, in its raw shape.
Sender = Callable[[list[RawItem], list[RawItem]], list[dict[str, Any]]]


@dataclass
class BatchStats:
    """What a batch write cost, for logs and benchmarks."""

    requests: int = 0
    retried_items: int = 0


class BatchWriter:
    """Writes many items with BatchWriteItem: 25 per request, `workers` requests in flight.

    Unprocessed items (throttling, partition limits) are resent with exponential backoff
    and full jitter; after `max_attempts` the whole call fails as Unavailable, and since
    every write here is an idempotent put or delete, the caller may simply retry.
    """

    def __init__(self, send: Sender, workers: int = 4, max_attempts: int = 8,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._send = send
        self._workers = workers
        self._retry = replace(UNPROCESSED_RETRY, max_attempts=max_attempts)
        self._sleep = sleep

    def write(self, puts: Iterable[RawItem] = (), deletes: Iterable[RawItem] = ()) -> BatchStats:
        """Put and delete every item; returns the request count."""
        stats = BatchStats()
        lock = threading.Lock()
        batches = _chunks([("put", p) for p in puts] + [("delete", d) for d in deletes])

        def one(batch: list[tuple[str, RawItem]]) -> None:
            requests, retried = self._write_one(batch)
            with lock:
                stats.requests += requests
                stats.retried_items += retried

        if self._workers <= 1:
            for batch in batches:
                one(batch)
        else:
            with ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="batch-write") as pool:
                # list() re-raises the first failure of any worker.
                list(pool.map(one, batches))
        return stats

    def _write_one(self, batch: list[tuple[str, RawItem]]) -> tuple[int, int]:
        puts = [item for kind, item in batch if kind == "put"]
        deletes = [item for kind, item in batch if kind == "delete"]
        retried = 0
        for attempt in self._retry.retries(self._sleep):
            unprocessed = self._send(puts, deletes)
            if not unprocessed:
                return attempt, retried
            puts = [u["PutRequest"]["Item"] for u in unprocessed if "PutRequest" in u]
            deletes = [u["DeleteRequest"]["Key"] for u in unprocessed if "DeleteRequest" in u]
            retried += len(unprocessed)
        raise Unavailable(f"DynamoDB left {len(puts) + len(deletes)} items unprocessed after "
                          f"{self._retry.max_attempts} attempts; retry later")


def _chunks(items: list[tuple[str, RawItem]]) -> Iterator[list[tuple[str, RawItem]]]:
    it = iter(items)
    while batch := list(islice(it, BATCH_LIMIT)):
        yield batch


def model_sender(model: type[Model]) -> Sender:
    """A Sender writing to one model's table through PynamoDB's connection for it."""

    def send(puts: list[RawItem], deletes: list[RawItem]) -> list[dict[str, Any]]:
        # PynamoDB's own BatchWrite resends without backoff; its connection is what we reuse.
        data = model._get_connection().batch_write_item(put_items=puts or None, delete_items=deletes or None)
        return list((data or {}).get("UnprocessedItems", {}).get(model.Meta.table_name, []))

    return send


def serialize(item: Model) -> RawItem:
    """The attribute-value map of a model instance, as BatchWriteItem takes it."""
    return item.serialize()
