"""Binding the tables to the stage, and creating them from the models the features declare."""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from pynamodb.models import Model

from chalicelib.core.config import Settings
from chalicelib.core.storage.base import bind_models

# The models are the features' (`Feature.models`): the composition root passes them in
# (chalicelib/features.py `all_models()`); the core names no feature's table.


def bind(settings: Settings, models: Sequence[type[Model]]) -> None:
    """Point every model at the stage's tables and endpoint."""
    bind_models(models, settings)


def create_tables(settings: Settings, models: Sequence[type[Model]]) -> list[str]:
    """Create any missing table (on-demand billing), and any index a model gained since; wait for each."""
    bind(settings, models)
    created = []
    for model in models:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            created.append(model.Meta.table_name)
        else:
            created += add_missing_indexes(model, settings)
    return created


def add_missing_indexes(model: type[Model], settings: Settings) -> list[str]:
    """Add the model's global secondary indexes the existing table lacks (UpdateTable, one at a time).

    An upgraded stage keeps its tables; without this, a feature's new index (the sites
    fan-out's, say) would be missing there and every query of it would fail.
    """
    import boto3  # deploy-time only: a function's cold start does not need boto3

    client = boto3.client("dynamodb", endpoint_url=settings.ddb_endpoint or None, region_name=settings.aws_region)
    table = model.Meta.table_name
    existing = {g["IndexName"] for g in client.describe_table(TableName=table)["Table"].get(
        "GlobalSecondaryIndexes", [])}
    schema: dict[str, Any] = model._get_schema()  # type: ignore[assignment]
    added = []
    for index in schema["global_secondary_indexes"]:
        if index["index_name"] in existing:
            continue
        client.update_table(
            TableName=table,
            AttributeDefinitions=index["attribute_definitions"],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": index["index_name"], "KeySchema": hash_first(index["key_schema"]),
                "Projection": index["projection"],
            }}],
        )
        _wait_for_index(client, table, index["index_name"])
        added.append(f"{table}:{index['index_name']}")
    return added


def hash_first(key_schema: list[dict[str, str]]) -> list[dict[str, str]]:
    """The key schema with HASH before RANGE, as CreateTable and UpdateTable require.

    PynamoDB's `_get_schema()` lists an index's keys in attribute order, which may put
    the range key first; moto accepts that, DynamoDB (and DynamoDB Local) refuse it.
    """
    return sorted(key_schema, key=lambda k: k["KeyType"] != "HASH")


def _wait_for_index(client: Any, table: str, index_name: str, timeout_s: float = 600.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        indexes = client.describe_table(TableName=table)["Table"].get("GlobalSecondaryIndexes", [])
        if any(g["IndexName"] == index_name and g.get("IndexStatus", "ACTIVE") == "ACTIVE" for g in indexes):
            return
        time.sleep(2)
    raise TimeoutError(f"index {index_name} of {table} not active after {timeout_s:.0f}s")
