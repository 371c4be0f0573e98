"""Least-privilege IAM policies per function, generated from `access.py`.

The documents are written to `.chalice/policies/{stage}/{function}.json` and named in the
stage's `lambda_functions` config, so `chalice package` gives each function its own role.
ARNs are `Fn::Sub` expressions: CloudFormation fills in partition, region and account.

    python -m infra.aws.iam --write      # regenerate after changing access.py or a model
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from infra.aws.access import FUNCTIONS, FunctionAccess
from infra.aws.tables import physical_name

ROOT = Path(__file__).resolve().parents[2]
CHALICE_DIR = ROOT / ".chalice"
APP_NAME = "fleet-control-plane"
TOPIC_PREFIX = "tenant"
ARN = "arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}:%s"


def _sub(service: str, resource: str) -> dict[str, str]:
    return {"Fn::Sub": ARN % (service, resource)}


def lambda_name(stage: str, function: str) -> str:
    """The deployed function name Chalice gives (the API handler has no suffix)."""
    return f"{APP_NAME}-{stage}" if function == "api_handler" else f"{APP_NAME}-{stage}-{function}"


def queue_name(stage: str) -> str:
    """The SQS queue the topic rule feeds when DeviceMessagesVia=sqs."""
    return f"{APP_NAME}-{stage}-device-messages"


def policy_document(function: str, access: FunctionAccess, stage: str, prefix: str) -> dict[str, Any]:
    """The IAM policy of one function: its log group, its tables and indexes, its topics."""
    statements: list[dict[str, Any]] = [{
        "Sid": "OwnLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [_sub("logs", f"log-group:/aws/lambda/{lambda_name(stage, function)}:*")],
    }]
    for table in access.tables:
        name = physical_name(table.model, prefix)
        statements.append({
            "Sid": "Table" + "".join(p.capitalize() for p in table.model.Meta.table_suffix.split("-")),  # type: ignore[attr-defined]
            "Effect": "Allow",
            "Action": [f"dynamodb:{a}" for a in sorted(table.actions)],
            "Resource": [_sub("dynamodb", f"table/{name}")],
        })
        if table.indexes:
            statements[-1]["Resource"] += [_sub("dynamodb", f"table/{name}/index/{i}") for i in table.indexes]
    bucket = f"arn:${{AWS::Partition}}:s3:::{firmware_bucket_name(prefix)}"
    if access.bucket_objects:
        statements.append({"Sid": "FirmwareObjects", "Effect": "Allow", "Action": sorted(access.bucket_objects),
                           "Resource": [{"Fn::Sub": f"{bucket}/*"}]})
    if access.bucket:
        statements.append({"Sid": "FirmwareBucket", "Effect": "Allow", "Action": sorted(access.bucket),
                           "Resource": [{"Fn::Sub": bucket}]})
    if access.publishes:
        topics = [f"topic/{TOPIC_PREFIX}/*", *(f"topic/{t}" for t in access.extra_topics)]
        statements.append({
            "Sid": "PublishProjectTopics",
            "Effect": "Allow",
            # Retained messages (the desired twin) need RetainPublish as well.
            "Action": ["iot:Publish", "iot:RetainPublish"],
            "Resource": [_sub("iot", t) for t in topics],
        })
    if access.reads_queue:
        statements.append({
            "Sid": "ReadDeviceMessagesQueue",
            "Effect": "Allow",
            # What the event source mapping needs of the function's role (DeviceMessagesVia=sqs).
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            "Resource": [_sub("sqs", queue_name(stage))],
        })
    if access.invokes:
        statements.append({
            "Sid": "InvokeStageFunctions",
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": [_sub("lambda", f"function:{lambda_name(stage, f)}") for f in access.invokes],
        })
    if access.iot_actions:
        statements += iot_statements(access.iot_actions)
    return {"Version": "2012-10-17", "Statement": statements}


def firmware_bucket_name(prefix: str) -> str:
    """The stage's firmware bucket (a `Fn::Sub` text: bucket names are global, so account and region are in it)."""
    return f"{prefix}-firmware-${{AWS::AccountId}}-${{AWS::Region}}"


# AWS IoT actions IAM cannot scope to a resource (they make a certificate that has no ARN yet):
# the only statements allowed a bare "*".
UNSCOPED_IOT_ACTIONS = ("iot:CreateCertificateFromCsr", "iot:CreateKeysAndCertificate")


def iot_statements(actions: tuple[str, ...]) -> list[dict[str, Any]]:
    """AWS IoT control-plane grants: the unscoped creations on "*", the rest on certificates, things, policies."""
    unscoped = sorted(a for a in actions if a in UNSCOPED_IOT_ACTIONS)
    scoped = sorted(a for a in actions if a not in UNSCOPED_IOT_ACTIONS)
    statements: list[dict[str, Any]] = []
    if unscoped:
        statements.append({"Sid": "IotUnscopedCreate", "Effect": "Allow", "Action": unscoped, "Resource": ["*"]})
    if scoped:
        statements.append({"Sid": "IotControlPlane", "Effect": "Allow", "Action": scoped,
                           "Resource": [_sub("iot", "cert/*"), _sub("iot", "thing/*"), _sub("iot", "policy/*")]})
    return statements


def policy_path(stage: str, function: str) -> Path:
    """Where the stage's policy file of a function lives."""
    return CHALICE_DIR / "policies" / stage / f"{function}.json"


def stage_prefix(stage: str) -> str:
    """FLEET_TABLE_PREFIX of a stage in `.chalice/config.json`."""
    config = json.loads((CHALICE_DIR / "config.json").read_text())
    return str(config["stages"][stage]["environment_variables"]["FLEET_TABLE_PREFIX"])


def render(stage: str) -> dict[Path, str]:
    """Every policy file of the stage, as text."""
    prefix = stage_prefix(stage)
    return {policy_path(stage, fn): json.dumps(policy_document(fn, access, stage, prefix), indent=2) + "\n"
            for fn, access in FUNCTIONS.items()}


def packaged_stages() -> list[str]:
    """The stages whose functions get these policies (`autogen_policy: false`): prod and localstack."""
    config = json.loads((CHALICE_DIR / "config.json").read_text())
    return [name for name, stage in config["stages"].items() if stage.get("autogen_policy") is False]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", help="one stage (default: every packaged stage)")
    parser.add_argument("--write", action="store_true", help="write the files (default: check them)")
    args = parser.parse_args()
    stale = []
    for stage in [args.stage] if args.stage else packaged_stages():
        for path, text in render(stage).items():
            if args.write:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
            elif not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
    if stale:
        raise SystemExit("stale policy files (run python -m infra.aws.iam --write): " + ", ".join(stale))


if __name__ == "__main__":
    main()
