"""Counts DynamoDB requests per operation through botocore's event hooks."""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pynamodb.models import Model

from chalicelib.core.storage import base
from chalicelib.features import all_models

# The local stack's own polling in this process (one GetItem a second), not the work measured.
IGNORED_THREADS = frozenset({"credential-sync"})
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
# The requests that carry many items at once: what "one write per item, batched" is made of.
BATCHED_WRITES = frozenset({"TransactWriteItems", "BatchWriteItem"})


class Counts(Counter[str]):
    """Requests by operation name; `items_written` is how many items their writes carried."""

    items_written: int = 0


class DdbRequestCounter:
    """Attach once; then `with counter.measure() as counts:` counts the requests inside."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._items = 0
        self._lock = threading.Lock()
        self._attached: set[int] = set()

    def attach_all(self) -> None:
        """Hook every client PynamoDB uses: one per model, one for transactions."""
        clients = [_client_of(m) for m in all_models()] + [base.connection().client]
        for client in clients:
            if id(client) in self._attached:
                continue
            client.meta.events.register("before-call.dynamodb", self._on_call)
            client.meta.events.register("before-parameter-build.dynamodb", self._on_params)
            self._attached.add(id(client))

    def _on_call(self, model: Any, **kwargs: Any) -> None:
        if threading.current_thread().name in IGNORED_THREADS:
            return
        with self._lock:
            self._counts[model.name] += 1

    def _on_params(self, params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        if threading.current_thread().name in IGNORED_THREADS:
            return
        with self._lock:
            self._items += _items_in(model.name, params)

    @contextmanager
    def measure(self) -> Iterator[Counts]:
        """Counts of the requests made inside the block, by operation name."""
        self.attach_all()
        with self._lock:
            before, items_before = Counter(self._counts), self._items
        result = Counts()
        try:
            yield result
        finally:
            with self._lock:
                result.update(self._counts - before)
                result.items_written = self._items - items_before


def _items_in(operation: str, params: dict[str, Any]) -> int:
    if operation == "TransactWriteItems":
        return sum(1 for each in params.get("TransactItems", []) if "ConditionCheck" not in each)
    if operation == "BatchWriteItem":
        return sum(len(requests) for requests in params.get("RequestItems", {}).values())
    return 1 if operation in WRITES else 0


def _client_of(model: type[Model]) -> Any:
    return model._get_connection().connection.client


def describe(counts: Counter[str], per: int = 1) -> str:
    """'GetItem 1, UpdateItem 1' (divided by `per` operations)."""
    if not counts:
        return "0"
    return ", ".join(f"{op} {n / per:g}" for op, n in sorted(counts.items()))
