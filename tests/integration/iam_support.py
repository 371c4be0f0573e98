"""Recording every AWS call a function makes, and checking it against the function's IAM policy."""
from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from infra.aws.iam import policy_path

PARTITION, REGION, ACCOUNT = "aws", "us-east-1", "123456789012"
# Item actions IAM checks for each element of a transaction.
_TRANSACT_ITEM = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                  "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}


def table_arn(table: str, index: str | None = None) -> str:
    arn = f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


def required(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs one API call needs."""
    if service == "dynamodb":
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", table_arn(t)) for t in params["RequestItems"]]
        if operation in ("TransactWriteItems", "TransactGetItems"):
            out = []
            for item in params["TransactItems"]:
                [(kind, body)] = item.items()
                out.append((f"dynamodb:{_TRANSACT_ITEM[kind]}", table_arn(body["TableName"])))
            return out
        return [(f"dynamodb:{operation}", table_arn(params["TableName"], params.get("IndexName")))]
    if service == "s3":
        return _s3_required(operation, params)
    if service == "iot-data" and operation == "Publish":
        arn = f"arn:{PARTITION}:iot:{REGION}:{ACCOUNT}:topic/{params['topic']}"
        return [("iot:Publish", arn)] + ([("iot:RetainPublish", arn)] if params.get("retain") else [])
    if service == "lambda" and operation == "Invoke":
        function = params["FunctionName"]
        return [("lambda:InvokeFunction", f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{function}")]
    return [(f"{service}:{operation}", "(unknown)")]


def s3_arn(bucket: str, key: str | None = None) -> str:
    return f"arn:{PARTITION}:s3:::{bucket}" + (f"/{key}" if key is not None else "")


def _s3_required(operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """S3's IAM actions are not its operation names: HeadObject is s3:GetObject, a version adds `Version`."""
    bucket = params["Bucket"]
    versioned = "Version" if params.get("VersionId") else ""
    if operation in ("HeadObject", "GetObject"):
        return [(f"s3:GetObject{versioned}", s3_arn(bucket, params["Key"]))]
    if operation in ("PutObject", "DeleteObject"):
        return [(f"s3:{operation}{versioned}", s3_arn(bucket, params["Key"]))]
    if operation == "DeleteObjects":
        return [("s3:DeleteObjectVersion" if o.get("VersionId") else "s3:DeleteObject", s3_arn(bucket, o["Key"]))
                for o in params["Delete"]["Objects"]]
    if operation == "ListObjectVersions":
        return [("s3:ListBucketVersions", s3_arn(bucket))]
    if operation in ("ListObjectsV2", "ListObjects", "HeadBucket"):
        return [("s3:ListBucket", s3_arn(bucket))]
    return [(f"s3:{operation}", s3_arn(bucket))]


@dataclass
class Recorder:
    """AWS calls per function; `current` names the function whose code is running."""

    current: str = ""
    fail_publish: bool = False
    calls: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # What went out through IoT data (topic, payload): a scenario reads an answer it needs (a claim's token).
    published: list[tuple[str, bytes]] = field(default_factory=list)

    @contextmanager
    def running(self, function: str) -> Iterator[None]:
        self.current = function
        try:
            yield
        finally:
            self.current = ""

    @contextmanager
    def installed(self) -> Iterator[None]:
        original = BaseClient._make_api_call

        def traced(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            self.calls.setdefault(self.current or "(test)", []).extend(required(service, operation, params))
            if service == "iot-data":
                # No IoT Core here: the publish is recorded and reported as taken (or refused).
                if self.fail_publish:
                    raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "test"}}, operation)
                self.published.append((str(params.get("topic", "")), bytes(params.get("payload", b""))))
                return {}
            if service == "lambda":
                # No function to start here: the invoke is recorded, and the schedule does the work.
                return {"StatusCode": 202}
            return original(client, operation, params)

        with mock.patch.object(BaseClient, "_make_api_call", traced):
            yield


def _resolve(value: Any) -> str:
    text = value["Fn::Sub"] if isinstance(value, dict) else value
    return str(text).replace("${AWS::Partition}", PARTITION).replace("${AWS::Region}", REGION) \
        .replace("${AWS::AccountId}", ACCOUNT)


def load_policy(stage: str, function: str) -> list[dict[str, Any]]:
    """The statements of a function's policy file, with the CloudFormation variables filled in."""
    doc = json.loads(policy_path(stage, function).read_text())
    return [{**s, "Resource": [_resolve(r) for r in s["Resource"]]} for s in doc["Statement"]]


def allowed(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """IAM's matching for Allow statements without conditions: `*` and `?` wildcards, case-insensitive actions."""
    for s in statements:
        if s["Effect"] != "Allow" or "Condition" in s:
            continue
        if any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in s["Action"]) and \
                any(fnmatch.fnmatchcase(resource, r) for r in s["Resource"]):
            return True
    return False
