"""Run in a fresh process by bench_cold_start: the first and the warm GetItem of every model, as JSON.

It binds the models the way a Lambda does (settings from the environment), then reads a
missing key of each table in turn: the first read of a model pays for whatever its
connection builds on first use, the later ones are the warm figure.
"""
from __future__ import annotations

import contextlib
import json
import statistics
import sys
import time
from typing import Any

WARM_READS = 5


def _key(attr: Any) -> Any:
    from pynamodb.attributes import NumberAttribute

    return 0 if isinstance(attr, NumberAttribute) else "cold-start-probe"


def _read_ms(model: Any) -> float:
    from pynamodb.exceptions import DoesNotExist

    hash_key = _key(model._hash_key_attribute())
    range_attr = model._range_key_attribute()
    start = time.perf_counter()
    with contextlib.suppress(DoesNotExist):
        model.get(hash_key, _key(range_attr) if range_attr is not None else None)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    started = time.perf_counter()
    from chalicelib.core.config import get_settings
    from chalicelib.core.storage import tables
    from chalicelib.features import all_models

    tables.bind(get_settings(), all_models())
    bound_ms = (time.perf_counter() - started) * 1000
    rows = []
    for model in all_models():
        first = _read_ms(model)
        warm = statistics.median(_read_ms(model) for _ in range(WARM_READS))
        rows.append({"model": model.__name__, "first_ms": first, "warm_ms": warm})
    json.dump({"import_and_bind_ms": bound_ms, "models": rows}, sys.stdout)


if __name__ == "__main__":
    main()
