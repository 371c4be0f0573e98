"""Binding models to this stage's tables, and the low-level connection transactions need."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pynamodb.connection import Connection
from pynamodb.indexes import Projection
from pynamodb.models import Model

from chalicelib.core.config import Settings
from chalicelib.core.storage import session

_bound: dict[str, Any] = {}


def bind_models(models: Iterable[type[Model]], settings: Settings) -> None:
    """Point every model at this stage's table names and endpoint.

    Models are declared with a bare suffix as table name; binding happens once per
    process so the same classes serve AWS, LocalStack and the embedded emulator.
    """
    for model in models:
        suffix: str = model.Meta.table_suffix  # type: ignore[attr-defined]
        model.Meta.table_name = settings.table_name(suffix)
        model.Meta.host = settings.ddb_endpoint or None
        model.Meta.region = settings.aws_region
        model.Meta.max_retry_attempts = settings.ddb_max_retries
        # Fan-outs and sweeps write from several threads; botocore's default pool is 10.
        model.Meta.max_pool_connections = settings.ddb_max_pool_connections
        # PynamoDB caches the low-level connection per class; drop it so a rebind
        # (tests, a second stage in one process) takes effect.
        model._connection = None
    # One session and client for all of them, built on the first request (see session.py).
    session.install()
    session.reset()
    _bound["connection"] = None
    _bound["settings"] = settings


def connection() -> Connection:
    """A low-level connection for TransactWrite/TransactGet (PynamoDB needs one)."""
    conn = _bound.get("connection")
    if conn is None:
        settings: Settings = _bound["settings"]
        conn = Connection(
            region=settings.aws_region,
            host=settings.ddb_endpoint or None,
            max_retry_attempts=settings.ddb_max_retries,
            max_pool_connections=settings.ddb_max_pool_connections,
        )
        _bound["connection"] = conn
    return conn


def table_meta(suffix: str) -> Any:
    """The Meta of a model kept in this stage's `suffix` table; bind_models gives it the full name.

    Every table is on-demand: a fleet's load comes in bursts (a job fan-out, a wake-up).
    """
    return type("Meta", (), {"table_suffix": suffix, "table_name": suffix, "billing_mode": "PAY_PER_REQUEST"})


def index_meta(name: str, projection: Projection) -> Any:
    """The Meta of a secondary index: its name and what it projects."""
    return type("Meta", (), {"index_name": name, "projection": projection})
