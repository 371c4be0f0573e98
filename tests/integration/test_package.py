"""`make package`: one SAM template that cfn-lint accepts, holding every part of the product, and a lean zip."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from chalicelib.features import all_models
from infra.aws.access import FUNCTIONS
from infra.aws.iam import ROOT, UNSCOPED_IOT_ACTIONS
from infra.aws.package import PLACEHOLDERS, load_config, package
from infra.aws.template import LOGICAL_IDS

pytestmark = pytest.mark.slow

# Test and development tooling that must never ship in the Lambda zip.
DEV_ONLY = ("tests", "pytest", "_pytest", "moto", "mypy", "ruff", "cfnlint", "localstack_client", "bench",
            "infra", "mqtt_bridge", "frontend", "samtranslator")


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("package")
    sam = package(out, load_config())
    return out, json.loads(sam.read_text())


def _of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def test_cfn_lint_reports_no_error(packaged: tuple[Path, dict[str, Any]]) -> None:
    out, _ = packaged
    lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(lint), str(out / "sam.json")], capture_output=True, text=True)
    # cfn-lint's exit code is a bit mask: 2 = errors, 4 = warnings, 8 = informational.
    assert result.returncode & 2 == 0, result.stdout + result.stderr


def test_template_holds_tables_functions_schedules_rule_and_authorizer(packaged: tuple[Path, dict[str, Any]]) -> None:
    _, template = packaged
    functions = _of_type(template, "AWS::Serverless::Function")
    assert set(functions) == set(LOGICAL_IDS.values())
    assert len(_of_type(template, "AWS::DynamoDB::Table")) == len(all_models())
    schedules = {k for k, f in functions.items()
                 if any(e["Type"] == "Schedule" for e in f["Properties"].get("Events", {}).values())}
    assert schedules == {"CommandsRetry", "CommandsExpiry", "JobsSweep", "SiteFanout", "CommandBatches",
                         "GroupDeletes", "DeviceImports"}
    [rule] = _of_type(template, "AWS::IoT::TopicRule").values()
    payload = rule["Properties"]["TopicRulePayload"]
    # By default (DeviceMessagesVia=lambda) the rule invokes the function per message.
    condition, _, per_message = payload["Actions"]["Fn::If"]
    assert condition == "DeviceMessagesViaSqs" and template["Parameters"]["DeviceMessagesVia"]["Default"] == "lambda"
    assert per_message == [{"Lambda": {"FunctionArn": {"Fn::GetAtt": ["DeviceMessage", "Arn"]}}}]
    assert payload["ErrorAction"]["Sqs"]["RoleArn"] == {"Fn::GetAtt": ["DeviceMessagesRuleErrorRole", "Arn"]}
    [authorizer] = _of_type(template, "AWS::IoT::Authorizer").values()
    assert authorizer["Properties"]["AuthorizerFunctionArn"] == {"Fn::GetAtt": ["IotAuthorizer", "Arn"]}
    iot_permissions = {json.dumps(p["Properties"]["SourceArn"]) for p in
                       _of_type(template, "AWS::Lambda::Permission").values()
                       if p["Properties"]["Principal"] == "iot.amazonaws.com"}
    assert iot_permissions == {json.dumps({"Fn::GetAtt": ["DeviceMessagesRule", "Arn"]}),
                               json.dumps({"Fn::GetAtt": ["DeviceAuthorizer", "Arn"]})}


def test_the_sqs_path_queues_the_rule_and_feeds_the_function_batches_with_partial_responses(
        packaged: tuple[Path, dict[str, Any]]) -> None:
    _, template = packaged
    [rule] = _of_type(template, "AWS::IoT::TopicRule").values()
    _, [queued], _ = rule["Properties"]["TopicRulePayload"]["Actions"]["Fn::If"]
    assert queued["Sqs"]["QueueUrl"] == {"Ref": "DeviceMessagesQueue"} and queued["Sqs"]["UseBase64"] is False
    [queue] = [r for k, r in _of_type(template, "AWS::SQS::Queue").items() if k == "DeviceMessagesQueue"]
    assert queue["Condition"] == "DeviceMessagesViaSqs"
    assert queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["DeviceMessagesDlq", "Arn"]}
    [reader] = _of_type(template, "AWS::Lambda::EventSourceMapping").values()
    assert reader["Condition"] == "DeviceMessagesViaSqs"
    assert reader["Properties"]["FunctionName"] == {"Ref": "DeviceMessage"}
    assert reader["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # And the function's own role may read that queue (the mapping checks it on creation).
    policy = json.loads((Path(".chalice") / "policies" / "prod" / "device_message.json").read_text())
    [statement] = [s for s in policy["Statement"] if s["Sid"] == "ReadDeviceMessagesQueue"]
    assert statement["Resource"] == [{"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:"
                                                  + queue["Properties"]["QueueName"]}]


def test_each_function_runs_as_its_own_role_with_its_generated_policy(packaged: tuple[Path, dict[str, Any]]) -> None:
    _, template = packaged
    roles = _of_type(template, "AWS::IAM::Role")
    assert "DefaultRole" not in roles
    for name, logical in LOGICAL_IDS.items():
        role_ref = template["Resources"][logical]["Properties"]["Role"]
        [role_id, _] = role_ref["Fn::GetAtt"]
        document = roles[role_id]["Properties"]["Policies"][0]["PolicyDocument"]
        expected = json.loads((Path(__file__).resolve().parents[2] / ".chalice" / "policies" / "prod"
                               / f"{name}.json").read_text())
        assert document == expected, name
    assert len({json.dumps(template["Resources"][lg]["Properties"]["Role"]) for lg in LOGICAL_IDS.values()}) == \
        len(FUNCTIONS)


def test_no_placeholder_and_operator_auth_comes_from_parameters(packaged: tuple[Path, dict[str, Any]]) -> None:
    out, template = packaged
    assert PLACEHOLDERS.findall((out / "sam.json").read_text()) == []
    env = template["Resources"]["OperatorAuth"]["Properties"]["Environment"]["Variables"]
    assert env["FLEET_JWT_JWKS_URL"]["Fn::If"][0] == "CreateUserPool"
    assert env["FLEET_JWT_ALGORITHMS"] == "RS256" and env["FLEET_MQTT_BACKEND"] == "iot-data"
    assert {"OperatorJwksUrl", "OperatorIssuer", "OperatorAudience"} <= set(template["Parameters"])


def test_deployment_zip_leaves_test_tooling_out(packaged: tuple[Path, dict[str, Any]]) -> None:
    out, _ = packaged
    names = zipfile.ZipFile(out / "deployment.zip").namelist()
    tops = {n.split("/")[0] for n in names}
    assert {"app.py", "chalicelib", "pynamodb", "pydantic"} <= tops
    leaked = sorted(t for t in tops if t.split("-")[0].split(".")[0] in DEV_ONLY)
    assert leaked == []


def test_deployment_zip_ships_the_aws_sdk_the_tests_run(packaged: tuple[Path, dict[str, Any]]) -> None:
    # Given the versions pinned in requirements.txt (the ones the tests install)
    pins = dict(line.split("==") for line in (ROOT / "requirements.txt").read_text().splitlines()
                if line.startswith(("botocore==", "boto3==", "s3transfer==")))
    out, _ = packaged
    # Then the zip holds exactly those: its botocore shadows the runtime's, so a mismatch would ship untested
    shipped = {n.split("/")[0].removesuffix(".dist-info") for n in zipfile.ZipFile(out / "deployment.zip").namelist()
               if n.split("/")[0].endswith(".dist-info")}
    assert {f"{name}-{version}" for name, version in pins.items()} <= shipped
    assert len(pins) == 3


def test_no_statement_in_the_template_allows_every_resource_but_certificate_creation(
        packaged: tuple[Path, dict[str, Any]]) -> None:
    _, template = packaged
    wide = []
    for logical, resource in template["Resources"].items():
        if not resource["Type"].startswith("AWS::IAM::"):
            continue
        props = resource["Properties"]
        documents = [p["PolicyDocument"] for p in props.get("Policies", [])] + \
            ([props["PolicyDocument"]] if "PolicyDocument" in props else [])
        for document in documents:
            for statement in document["Statement"]:
                listed = statement["Resource"]
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                # AWS IoT's certificate creation cannot be scoped by IAM: the one bare "*", alone in its statement.
                if "*" in (listed if isinstance(listed, list) else [listed]) and \
                        not set(actions) <= set(UNSCOPED_IOT_ACTIONS):
                    wide.append(logical)
    assert wide == []


def test_gateway_answers_use_the_one_error_shape(packaged: tuple[Path, dict[str, Any]]) -> None:
    _, template = packaged
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in _of_type(template, "AWS::ApiGateway::GatewayResponse").values()}
    assert {"UNAUTHORIZED", "MISSING_AUTHENTICATION_TOKEN", "REQUEST_TOO_LARGE"} <= set(responses)
    for props in responses.values():
        assert props["RestApiId"] == {"Ref": "RestAPI"}
        body = json.loads(props["ResponseTemplates"]["application/json"])
        assert set(body) >= {"error", "message"} and "Bearer" not in json.dumps(body)
