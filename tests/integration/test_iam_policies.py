"""Least privilege: each function's generated policy allows every AWS call it makes, and no wildcard resource.

The calls are recorded while each function runs its paths against the real DynamoDB engine
(`iam_scenarios.py`); IoT data-plane publishes are recorded instead of sent.
"""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.container import container, rebuild
from chalicelib.core.storage import tables
from chalicelib.features import all_models
from infra.aws.access import FUNCTIONS
from infra.aws.iam import UNSCOPED_IOT_ACTIONS, firmware_bucket_name, lambda_name, packaged_stages, policy_path, render
from tests.conftest import S3, Stack
from tests.integration import iam_scenarios
from tests.integration.iam_support import ACCOUNT, REGION, Recorder, allowed, load_policy
from tests.support import Api, restore_environ

STAGE = "prod"


@pytest.fixture(scope="module")
def recorded(stack: Stack, chalice_client: Client, s3: S3) -> Iterator[dict[str, Any]]:
    env = {"FLEET_TABLE_PREFIX": f"iam-{uuid.uuid4().hex[:8]}", "FLEET_MQTT_BACKEND": "iot-data",
           "FLEET_IOT_DATA_ENDPOINT": "http://127.0.0.1:9", "FLEET_SITE_FANOUT_BUDGET_S": "0",
           "FLEET_SITE_FANOUT_CHUNK": "1", "FLEET_SITE_FANOUT_LEASE_S": "60",
           "FLEET_COMMAND_BATCH_BUDGET_S": "0", "FLEET_COMMAND_BATCH_CHUNK": "1",
           # As the packaged template sets it: a handed-over batch is started by an asynchronous invoke.
           "FLEET_COMMAND_BATCH_FUNCTION": lambda_name(STAGE, "command_batches"),
           "FLEET_DEVICE_IMPORT_BUDGET_S": "0", "FLEET_DEVICE_IMPORT_CHUNK": "1",
           "FLEET_BROKER_AUTH_SECRET": iam_scenarios.BROKER_SECRET}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    rebuild()
    tables.create_tables(container().settings, all_models())
    rec = Recorder()
    try:
        with rec.installed():
            api = Api(chalice_client, f"t-{uuid.uuid4().hex[:10]}")
            ids = iam_scenarios.run_api(api, rec)
            ids |= iam_scenarios.run_firmware(api, rec, ids)
            iam_scenarios.run_device_message(api, chalice_client, rec, ids)
            iam_scenarios.run_schedules(api, rec, ids)
            iot = iam_scenarios.run_authorizers(api, rec, ids)
        yield {"calls": rec.calls, "iot": iot, "prefix": env["FLEET_TABLE_PREFIX"], "bucket": s3.bucket}
    finally:
        restore_environ(saved)
        rebuild()
        container()  # rebind the models to the shared test tables at once


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_call_the_function_makes_is_allowed_by_its_policy(recorded: dict[str, Any], function: str) -> None:
    # Given the function's generated policy (its tables carry the prod prefix, the run's its own)
    statements = load_policy(STAGE, function)
    bucket = f":::{firmware_bucket_name('fleet-prod')}".replace("${AWS::AccountId}", ACCOUNT) \
        .replace("${AWS::Region}", REGION)
    calls = {(a, r.replace(f"table/{recorded['prefix']}-", "table/fleet-prod-")
              .replace(f":::{recorded['bucket']}", bucket))
             for a, r in recorded["calls"].get(function, [])}
    # Then each recorded (action, resource) is allowed
    denied = sorted(c for c in calls if not allowed(statements, *c))
    assert denied == [], f"{function} makes calls its policy does not allow: {denied}"


def test_policies_grant_no_table_a_function_never_touches(recorded: dict[str, Any]) -> None:
    # The other direction: a table in a function's policy that no recorded call used is excess privilege.
    for function, access in FUNCTIONS.items():
        touched = {r.split(":table/")[1].split("/")[0].removeprefix(recorded["prefix"] + "-")
                   for _, r in recorded["calls"].get(function, []) if ":table/" in r}
        granted = {t.model.Meta.table_suffix for t in access.tables}  # type: ignore[attr-defined]
        assert granted <= touched, f"{function}: granted but never used: {sorted(granted - touched)}"


def test_every_function_with_storage_was_exercised(recorded: dict[str, Any]) -> None:
    # A function whose policy grants tables must have made calls here, or the check above proves nothing.
    silent = [f for f, a in FUNCTIONS.items() if a.tables and not recorded["calls"].get(f)]
    assert silent == []
    assert recorded["calls"].get("operator_auth", []) == []


def test_no_policy_grants_a_bare_wildcard_resource_or_action() -> None:
    for function in FUNCTIONS:
        for statement in load_policy(STAGE, function):
            assert all(not a.endswith(":*") for a in statement["Action"])
            if "*" in statement["Resource"]:
                # Only the actions IAM cannot scope (AWS IoT's certificate creation), alone in their statement.
                assert statement["Resource"] == ["*"] and set(statement["Action"]) <= set(UNSCOPED_IOT_ACTIONS)
                continue
            for resource in statement["Resource"]:
                if ":dynamodb:" in resource:
                    assert "*" not in resource, (function, resource)
                if ":iot:" in resource and ":topic/" in resource:
                    # The project's topics, the health probe's, the answers to boards enrolling by claim.
                    assert resource.split(":topic/")[1].startswith(("tenant/", "$aws/health/",
                                                                    "$fleet/claim-replies/")), resource
                elif ":iot:" in resource:
                    assert resource.split(":iot:")[1].endswith(("cert/*", "thing/*", "policy/*")), resource


@pytest.mark.parametrize("stage", [STAGE, "localstack"])
def test_policy_files_are_generated_from_the_access_map(stage: str) -> None:
    stale = [str(p) for p, text in render(stage).items() if not p.exists() or p.read_text() != text]
    assert stale == [], "run python -m infra.aws.iam --write"
    config = json.loads((policy_path(stage, "x").parents[2] / "config.json").read_text())
    assert set(config["stages"][stage]["lambda_functions"]) == set(FUNCTIONS)
    assert config["stages"][stage]["autogen_policy"] is False
    assert stage in packaged_stages()


def test_iot_authorizer_policy_is_scoped_to_the_device(recorded: dict[str, Any]) -> None:
    [policy] = recorded["iot"]["policyDocuments"]
    resources = [r for s in policy["Statement"] for r in ([s["Resource"]] if isinstance(s["Resource"], str)
                                                          else s["Resource"])]
    assert all("/iam-2" in r or r.endswith(".iam-2") or ".iam-2/" in r for r in resources), resources
    assert not any(r.endswith(("topic/*", "topicfilter/*", "client/*")) for r in resources)

