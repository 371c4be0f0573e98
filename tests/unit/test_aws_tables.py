"""The template's tables are the models: the same tables PynamoDB creates, plus what only CloudFormation sets."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pynamodb.models import Model

from chalicelib.container import container, rebuild
from chalicelib.core.config import Settings
from chalicelib.core.storage import tables
from chalicelib.features import all_models
from infra.aws.tables import logical_id, table_resources, ttl_attribute

PREFIX = "fleet-prod"
TEMPLATE = table_resources(PREFIX)


def _keys(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(k["AttributeName"], k["KeyType"]) for k in schema]


def _indexes(described: list[dict[str, Any]]) -> dict[str, tuple[list[tuple[str, str]], dict[str, Any]]]:
    return {i["IndexName"]: (sorted(_keys(i["KeySchema"])),
                             {"ProjectionType": i["Projection"]["ProjectionType"],
                              **({"NonKeyAttributes": sorted(i["Projection"]["NonKeyAttributes"])}
                                 if i["Projection"].get("NonKeyAttributes") else {})})
            for i in described}


@pytest.fixture(scope="module")
def described(monkeypatch_module: pytest.MonkeyPatch) -> Iterator[dict[str, dict[str, Any]]]:
    """What DynamoDB holds after the models created their own tables (the code path of create_tables)."""
    with mock_aws():
        settings = Settings(table_prefix=PREFIX, ddb_endpoint="", aws_region="us-east-1")
        tables.create_tables(settings, all_models())
        client = boto3.client("dynamodb", region_name="us-east-1")
        out = {}
        for model in all_models():
            name = model.Meta.table_name
            out[logical_id(model)] = {**client.describe_table(TableName=name)["Table"],
                                      "ttl": client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]}
        yield out
    # Other tests in this process may have bound the models to their own engine: restore that.
    rebuild()
    container()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.delenv("AWS_ENDPOINT_URL", raising=False)
        yield mp


def test_one_template_table_per_model_and_nothing_else() -> None:
    assert sorted(TEMPLATE) == sorted(logical_id(m) for m in all_models())
    assert len({r["Properties"]["TableName"] for r in TEMPLATE.values()}) == len(all_models())


@pytest.mark.parametrize("model", all_models(), ids=lambda m: m.__name__)
def test_template_table_equals_the_table_the_model_creates(model: type[Model],
                                                           described: dict[str, dict[str, Any]]) -> None:
    # Given the table PynamoDB created from the model, and the template's resource for it
    actual = described[logical_id(model)]
    props = TEMPLATE[logical_id(model)]["Properties"]
    # Then names, keys, attribute types and every index with its projection agree
    assert props["TableName"] == actual["TableName"]
    assert _keys(props["KeySchema"]) == sorted(_keys(actual["KeySchema"]), key=lambda k: k[1] != "HASH")
    assert sorted((a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]) == \
        sorted((a["AttributeName"], a["AttributeType"]) for a in actual["AttributeDefinitions"])
    assert _indexes(props.get("GlobalSecondaryIndexes", [])) == _indexes(actual.get("GlobalSecondaryIndexes", []))
    assert _indexes(props.get("LocalSecondaryIndexes", [])) == _indexes(actual.get("LocalSecondaryIndexes", []))
    # And TTL is on the attribute PynamoDB enabled it on
    ttl = props.get("TimeToLiveSpecification")
    expected_ttl = actual["ttl"].get("AttributeName") if actual["ttl"]["TimeToLiveStatus"] == "ENABLED" else None
    assert (ttl["AttributeName"] if ttl else None) == expected_ttl == ttl_attribute(model)


@pytest.mark.parametrize("logical", sorted(TEMPLATE))
def test_every_table_is_on_demand_recoverable_and_retained(logical: str) -> None:
    resource = TEMPLATE[logical]
    props = resource["Properties"]
    assert resource["DeletionPolicy"] == "Retain" and resource["UpdateReplacePolicy"] == "Retain"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    for index in props.get("GlobalSecondaryIndexes", []) + props.get("LocalSecondaryIndexes", []) + [props]:
        assert index["KeySchema"][0]["KeyType"] == "HASH"
        assert [k["KeyType"] for k in index["KeySchema"]] in (["HASH"], ["HASH", "RANGE"])


def test_models_with_expiring_items_have_ttl_in_the_template() -> None:
    with_ttl = {logical_id(m) for m in all_models() if ttl_attribute(m)}
    assert with_ttl == {k for k, r in TEMPLATE.items() if "TimeToLiveSpecification" in r["Properties"]}
    assert {"CommandsTable", "IdempotencyTable"} <= with_ttl
