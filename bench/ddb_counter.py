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


class DdbRequestCounter:
    """Attach once; then `with counter.measure() as counts:` counts the requests inside."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._attached: set[int] = set()

    def attach_all(self) -> None:
        """Hook every client PynamoDB uses: one per model, one for transactions."""
        clients = [_client_of(m) for m in all_models()] + [base.connection().client]
        for client in clients:
            if id(client) in self._attached:
                continue
            client.meta.events.register("before-call.dynamodb", self._on_call)
            self._attached.add(id(client))

    def _on_call(self, model: Any, **kwargs: Any) -> None:
        if threading.current_thread().name in IGNORED_THREADS:
            return
        with self._lock:
            self._counts[model.name] += 1

    @contextmanager
    def measure(self) -> Iterator[Counter[str]]:
        """Counts of the requests made inside the block, by operation name."""
        self.attach_all()
        with self._lock:
            before = Counter(self._counts)
        result: Counter[str] = Counter()
        try:
            yield result
        finally:
            with self._lock:
                result.update(self._counts - before)


def _client_of(model: type[Model]) -> Any:
    return model._get_connection().connection.client


def describe(counts: Counter[str], per: int = 1) -> str:
    """'GetItem 1, UpdateItem 1' (divided by `per` operations)."""
    if not counts:
        return "0"
    return ", ".join(f"{op} {n / per:g}" for op, n in sorted(counts.items()))
