"""CloudFormation tables generated from the PynamoDB models: the models are the only schema."""
from __future__ import annotations

from typing import Any

from pynamodb.attributes import TTLAttribute
from pynamodb.models import Model

from chalicelib.features import all_models

# DynamoDB wants the partition key first in every key schema; PynamoDB's order is arbitrary.
_KEY_ORDER = {"HASH": 0, "RANGE": 1}


def logical_id(model: type[Model]) -> str:
    """`devices` -> `DevicesTable`, `device-tokens` -> `DeviceTokensTable`."""
    suffix: str = model.Meta.table_suffix  # type: ignore[attr-defined]
    return "".join(part.capitalize() for part in suffix.split("-")) + "Table"


def physical_name(model: type[Model], prefix: str) -> str:
    """The table name the functions compute from FLEET_TABLE_PREFIX."""
    return f"{prefix}-{model.Meta.table_suffix}"  # type: ignore[attr-defined]


def ttl_attribute(model: type[Model]) -> str | None:
    """The attribute DynamoDB's TTL deletes by, if the model has one."""
    names = [a.attr_name for a in model.get_attributes().values() if isinstance(a, TTLAttribute)]
    if len(names) > 1:
        raise ValueError(f"{model.__name__} declares more than one TTL attribute: {names}")
    return names[0] if names else None


def _keys(schema: list[dict[str, str]]) -> list[dict[str, str]]:
    ordered = sorted(schema, key=lambda k: _KEY_ORDER[k["KeyType"]])
    return [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in ordered]


def _projection(projection: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"ProjectionType": projection["ProjectionType"]}
    if projection.get("NonKeyAttributes"):
        out["NonKeyAttributes"] = sorted(projection["NonKeyAttributes"])
    return out


def table_properties(model: type[Model], prefix: str) -> dict[str, Any]:
    """The AWS::DynamoDB::Table properties of one model."""
    schema: dict[str, Any] = model._get_schema()  # type: ignore[assignment]
    attributes = {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]}
    props: dict[str, Any] = {
        "TableName": physical_name(model, prefix),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in sorted(attributes.items())],
        "KeySchema": _keys(schema["key_schema"]),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
    }
    gsis = [{"IndexName": i["index_name"], "KeySchema": _keys(i["key_schema"]),
             "Projection": _projection(i["projection"])} for i in schema.get("global_secondary_indexes", [])]
    lsis = [{"IndexName": i["index_name"], "KeySchema": _keys(i["key_schema"]),
             "Projection": _projection(i["projection"])} for i in schema.get("local_secondary_indexes", [])]
    if gsis:
        props["GlobalSecondaryIndexes"] = sorted(gsis, key=lambda i: i["IndexName"])
    if lsis:
        props["LocalSecondaryIndexes"] = sorted(lsis, key=lambda i: i["IndexName"])
    ttl = ttl_attribute(model)
    if ttl:
        props["TimeToLiveSpecification"] = {"AttributeName": ttl, "Enabled": True}
    return props


def table_resources(prefix: str) -> dict[str, Any]:
    """Every table of the product, retained when the stack is deleted or the resource replaced."""
    return {
        logical_id(model): {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": table_properties(model, prefix),
        }
        for model in all_models()
    }


def index_names(model: type[Model]) -> list[str]:
    """Names of the model's secondary indexes (global and local)."""
    schema: dict[str, Any] = model._get_schema()  # type: ignore[assignment]
    return sorted(i["index_name"] for kind in ("global_secondary_indexes", "local_secondary_indexes")
                  for i in schema.get(kind, []))
