"""Tables made by an earlier release gain the indexes a model added since."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from chalicelib.container import container
from chalicelib.core.storage import tables
from chalicelib.features import all_models
from chalicelib.sites.store import SiteModel
from infra.local.ddb_server import database_child, engine_from_env, wait_ready
from infra.local.processes import free_port
from tests.conftest import Stack


@pytest.fixture
def private_engine(tmp_path: Path) -> Iterator[str]:
    """An engine of its own: the shared one, after the load of the whole suite, may take minutes to build an index."""
    port = free_port()
    engine = database_child(engine_from_env(), port, None, tmp_path / "dynamodb.log").start()
    try:
        wait_ready(f"http://127.0.0.1:{port}", engine)
        yield f"http://127.0.0.1:{port}"
    finally:
        engine.stop()


def test_create_tables_adds_an_index_an_existing_table_lacks(stack: Stack, private_engine: str) -> None:
    # Given a stage whose sites table predates the fan-out index
    settings = container().settings.model_copy(update={"table_prefix": f"upgrade-{uuid.uuid4().hex[:8]}",
                                                       "ddb_endpoint": private_engine})
    client = boto3.client("dynamodb", endpoint_url=settings.ddb_endpoint, region_name=settings.aws_region)
    sites_table = settings.table_name("sites")
    client.create_table(
        TableName=sites_table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "tenant_id", "AttributeType": "S"},
                              {"AttributeName": "site_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "tenant_id", "KeyType": "HASH"},
                   {"AttributeName": "site_id", "KeyType": "RANGE"}],
    )
    try:
        # When the tables are created for this release
        changed = tables.create_tables(settings, all_models())
        # Then the missing index was added to the existing table, and the schedule's query of it works
        assert f"{sites_table}:fanout_due" in changed
        indexes = client.describe_table(TableName=sites_table)["Table"]["GlobalSecondaryIndexes"]
        assert [g["IndexName"] for g in indexes] == ["fanout_due"]
        assert list(SiteModel.fanout_due.query(0)) == []
        # And running it again changes nothing
        assert tables.create_tables(settings, all_models()) == []
    finally:
        tables.bind(container().settings, all_models())
