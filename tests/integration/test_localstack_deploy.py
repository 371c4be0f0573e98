"""The packaged `localstack` stage deployed into a fresh LocalStack on this machine, and used through its API Gateway.

What `make localstack` + `make deploy-local` do, on free ports: LocalStack Community on the
host (its Lambda functions as host processes), the stage's Mosquitto, `make package`'s
template and zip deployed by the project's deploy script. Every request below goes through
LocalStack's API Gateway into the deployed function, which reads and writes LocalStack's
DynamoDB and publishes to the real broker.
"""
from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from chalicelib.core.auth.operator import issue_local_token
from chalicelib.core.config import Settings
from chalicelib.core.topics import device_topic
from infra.aws.deploy import Target, deploy
from infra.aws.iam import lambda_name
from infra.aws.package import load_config, package
from infra.aws.template import LOGICAL_IDS
from infra.local.processes import Child, free_port, python_module
from infra.localstack import deploy as local_deploy
from infra.localstack.stage import CONFIG, ROOT, STAGE, stage_variables
from tests.support import MqttPeer, missing, mqtt_peer

# Under 3 minutes on 2 idle cores; the bound leaves room for a busy machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

TENANT = "lsdeploy"


@dataclass
class Deployed:
    """The running LocalStack, its broker, the stack's outputs and the packaged template."""

    state: dict[str, Any]
    target: Target
    outputs: dict[str, str]
    template: dict[str, Any]

    @property
    def api(self) -> str:
        return local_deploy.api_url(self.target, self.outputs)

    def observer(self) -> MqttPeer:
        """A service-listener client allowed to read every tenant's topics."""
        mqtt, who = self.state["mqtt"], self.state["observer"]
        return mqtt_peer(mqtt["host"], mqtt["service_port"], who["username"], who["password"])


def _wait_for_state(child: Child, path: Path, timeout: float = 180.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not child.alive():
            raise AssertionError(f"make localstack exited: {child.log_path.read_text()[-4000:]}")
        if path.exists():
            state: dict[str, Any] = json.loads(path.read_text())
            return state
        time.sleep(0.2)
    raise AssertionError(f"LocalStack not up after {timeout}s: {child.log_path.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    if not (ROOT / ".venv-localstack" / "bin" / "python").exists():
        missing("LocalStack's virtualenv (make localstack-venv)")
    workdir = tmp_path_factory.mktemp("localstack")
    env = {"LOCALSTACK_DIR": str(workdir), "LOCALSTACK_PORT": str(free_port()), "MQTT_PORT": str(free_port()),
           "MQTT_SERVICE_PORT": str(free_port())}
    out = tmp_path_factory.mktemp("package-localstack")
    child = Child("localstack-host", python_module("infra.localstack.host"), workdir / "host.log", env).start()
    try:
        # `make package` of the stage while LocalStack starts: each takes about as long as the other.
        with ThreadPoolExecutor(1) as pool:
            packaged = pool.submit(package, out, load_config(CONFIG))
            state = _wait_for_state(child, workdir / "localstack.json")
            sam = packaged.result()
        target = local_deploy.target(state)
        assert target.endpoint == state["endpoint"]
        outputs = deploy(target, out, local_deploy.parameters(state))
        yield Deployed(state, target, outputs, json.loads(sam.read_text()))
    finally:
        child.stop(timeout=30)


def _of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def _token(tenant: str = TENANT) -> str:
    variables = stage_variables()
    return issue_local_token(Settings(jwt_secret=variables["FLEET_JWT_SECRET"]), tenant)


def test_every_table_and_function_of_the_template_exists(deployed: Deployed) -> None:
    tables = {r["Properties"]["TableName"] for r in _of_type(deployed.template, "AWS::DynamoDB::Table").values()}
    listed = set(deployed.target.client("dynamodb").list_tables(Limit=100)["TableNames"])
    assert tables and tables <= listed
    resources = deployed.target.client("cloudformation").describe_stack_resources(
        StackName=deployed.target.stack_name)["StackResources"]
    functions = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources
                 if r["ResourceType"] == "AWS::Lambda::Function"}
    assert set(functions) == set(_of_type(deployed.template, "AWS::Serverless::Function"))
    # The names the policies' log groups and the bridge use.
    assert set(functions.values()) == {lambda_name(STAGE, fn) for fn in LOGICAL_IDS}
    lam = deployed.target.client("lambda")
    for name in functions.values():
        config = lam.get_function(FunctionName=name)["Configuration"]
        assert config["State"] == "Active", (name, config)


def test_health_and_openapi_answer_through_the_gateway(deployed: Deployed) -> None:
    health = requests.get(f"{deployed.api}/health", timeout=60)
    assert health.status_code == 200, health.text
    spec = requests.get(f"{deployed.api}/openapi.json", timeout=60)
    assert spec.status_code == 200
    assert "/customer/devices" in spec.json()["paths"]


def test_an_operator_request_needs_a_valid_token(deployed: Deployed) -> None:
    ok = requests.get(f"{deployed.api}/customer/devices", headers={"Authorization": f"Bearer {_token()}"},
                      timeout=60)
    assert ok.status_code == 200, ok.text
    assert ok.json()["devices"] == []
    for headers in ({}, {"Authorization": "Bearer not-a-token"},
                    {"Authorization": f"Bearer {_token()[:-4]}AAAA"}):
        refused = requests.get(f"{deployed.api}/customer/devices", headers=headers, timeout=60)
        assert refused.status_code == 401, (headers, refused.text)
        body = refused.json()
        assert body["error"] == "unauthenticated" and body["message"], body


def test_a_command_is_stored_and_published_to_the_broker(deployed: Deployed) -> None:
    auth = {"Authorization": f"Bearer {_token()}"}
    created = requests.post(f"{deployed.api}/customer/devices", json={"device_id": "cam-7"}, headers=auth,
                            timeout=60)
    assert created.status_code == 201, created.text
    observer = deployed.observer()
    try:
        observer.subscribe(device_topic(TENANT, "cam-7", "commands"))
        sent = requests.post(f"{deployed.api}/customer/devices/cam-7/commands", headers=auth, timeout=60,
                             json={"command_type": "ping", "command_params": {}, "expires_in_minutes": 60})
        assert sent.status_code == 201, sent.text
        command = sent.json()
        assert command["mqtt_published"] is True
        topic, payload, _ = observer.expect(timeout=30)
        assert topic == device_topic(TENANT, "cam-7", "commands")
        assert payload["command_id"] == command["command_id"]
    finally:
        observer.close()
    stored = requests.get(f"{deployed.api}/customer/devices/cam-7/commands", headers=auth, timeout=60)
    assert [c["command_id"] for c in stored.json()] == [command["command_id"]]


def test_a_scheduled_function_has_its_rule_and_runs_the_event_it_sends(deployed: Deployed) -> None:
    functions = _of_type(deployed.template, "AWS::Serverless::Function")
    scheduled = sorted(k for k, f in functions.items()
                       if any(e["Type"] == "Schedule" for e in f["Properties"].get("Events", {}).values()))
    assert scheduled
    events = deployed.target.client("events")
    targets = {t["Arn"].rsplit(":", 1)[-1] for r in events.list_rules()["Rules"] if r.get("ScheduleExpression")
               for t in events.list_targets_by_rule(Rule=r["Name"])["Targets"]}
    name = lambda_name(STAGE, "commands_expiry")
    assert name in targets and len(targets) == len(scheduled)
    # The event EventBridge sends each minute, sent now rather than waited for.
    event = {"version": "0", "id": "test", "detail-type": "Scheduled Event", "source": "aws.events",
             "account": "000000000000", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
             "resources": [], "detail": {}}
    answer = deployed.target.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode(),
                                                     LogType="Tail")
    logs = base64.b64decode(answer.get("LogResult", "")).decode(errors="replace")
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer, logs
    assert "commands_expiry" in logs  # the schedule's own report line


def test_a_device_ack_reaches_the_database_through_the_bridge(deployed: Deployed) -> None:
    auth = {"Authorization": f"Bearer {_token()}"}
    created = requests.post(f"{deployed.api}/customer/devices", json={"device_id": "cam-8"}, headers=auth,
                            timeout=60)
    assert created.status_code == 201, created.text
    mqtt = deployed.state["mqtt"]
    device = None
    deadline = time.monotonic() + 30
    while device is None:  # its credential reaches the broker within about a second
        candidate = mqtt_peer(mqtt["host"], mqtt["port"], f"{TENANT}.cam-8", created.json()["provision_token"],
                              client_id=f"{TENANT}.cam-8", wait=False)
        if candidate.connected.wait(2):
            device = candidate
        else:
            candidate.close()
            assert time.monotonic() < deadline, f"cam-8 could not log in: {candidate.connect_rc}"
    try:
        sent = requests.post(f"{deployed.api}/customer/devices/cam-8/commands", headers=auth, timeout=60,
                             json={"command_type": "ping", "command_params": {}, "expires_in_minutes": 60})
        command_id = sent.json()["command_id"]
        device.publish(device_topic(TENANT, "cam-8", "commands/ack"), {"command_id": command_id, "status": "ok"})
        deadline = time.monotonic() + 60
        status = ""
        while status != "delivered" and time.monotonic() < deadline:
            status = requests.get(f"{deployed.api}/customer/devices/cam-8/commands/{command_id}", headers=auth,
                                  timeout=60).json()["status"]
            time.sleep(0.5)
        assert status == "delivered"
    finally:
        device.close()
