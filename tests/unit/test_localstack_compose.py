"""The LocalStack compose file and stage, checked without Docker (none on CI machines).

What is checked: the YAML's structure, that every image is pinned, every build context and
Dockerfile exists, every FLEET_/BRIDGE_ variable is a real setting, the pieces agree with
each other and with the `localstack` stage, and that the deploy can only target LocalStack.
What is not: that the containers start (no `docker compose up` here).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from chalicelib.core.config import Settings
from infra.localstack import deploy
from mqtt_bridge.config import BridgeSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_PATH = ROOT / "infra" / "localstack" / "docker-compose.yml"
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_PATH.read_text())
STAGE = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["localstack"]["environment_variables"]
SERVICES: dict[str, Any] = COMPOSE["services"]


def test_compose_has_localstack_tables_broker_and_bridge_on_one_named_network() -> None:
    assert set(SERVICES) == {"localstack", "tables", "mosquitto", "bridge"}
    network = COMPOSE["networks"]["fleet"]["name"]
    assert all(s["networks"] == ["fleet"] for s in SERVICES.values())
    # Lambda containers must join the same network to reach the broker by name.
    assert SERVICES["localstack"]["environment"]["LAMBDA_DOCKER_NETWORK"] == network


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_image_is_pinned_and_every_build_exists(name: str) -> None:
    service = SERVICES[name]
    if "image" in service:
        _, _, tag = service["image"].partition(":")
        assert tag and tag != "latest" and tag[0].isdigit(), service["image"]
    else:
        context = (COMPOSE_PATH.parent / service["build"]["context"]).resolve()
        assert context == ROOT and (context / service["build"]["dockerfile"]).is_file()


def test_start_order_waits_for_health_and_for_the_tables() -> None:
    assert SERVICES["tables"]["depends_on"] == {"localstack": {"condition": "service_healthy"}}
    assert SERVICES["mosquitto"]["depends_on"] == {"tables": {"condition": "service_completed_successfully"}}
    assert SERVICES["bridge"]["depends_on"]["mosquitto"] == {"condition": "service_healthy"}
    for name in ("localstack", "mosquitto", "bridge"):
        assert SERVICES[name]["healthcheck"]["test"][0] == "CMD"
    assert SERVICES["bridge"]["healthcheck"]["test"][1:] == ["python", "-m", "mqtt_bridge.health"]


@pytest.mark.parametrize("name", ["tables", "mosquitto"])
def test_fleet_variables_are_settings_and_match_the_stage(name: str) -> None:
    env = SERVICES[name]["environment"]
    fleet = {k: v for k, v in env.items() if k.startswith("FLEET_")}
    assert set(fleet) <= Settings.env_names()
    assert fleet["FLEET_TABLE_PREFIX"] == STAGE["FLEET_TABLE_PREFIX"]
    Settings(**{k.removeprefix("FLEET_").lower(): v for k, v in fleet.items()})


def test_bridge_invokes_the_stages_device_message_function_on_localstack() -> None:
    env = SERVICES["bridge"]["environment"]
    known = {f"BRIDGE_{f.upper()}" for f in BridgeSettings.model_fields}
    assert {k for k in env if k.startswith("BRIDGE_")} <= known
    settings = BridgeSettings(**{k.removeprefix("BRIDGE_").lower(): v for k, v in env.items()
                                 if k.startswith("BRIDGE_")})
    assert settings.invoker == "lambda"
    assert settings.lambda_function_name == f"fleet-control-plane-{STAGE['FLEET_STAGE']}-device_message"
    assert settings.lambda_endpoint == "http://localstack:4566"
    assert settings.mqtt_host == STAGE["FLEET_MQTT_HOST"] == "mosquitto"
    # Services log in on the broker's service listener, devices on the published one.
    broker = SERVICES["mosquitto"]["environment"]
    assert str(settings.mqtt_port) == STAGE["FLEET_MQTT_PORT"] == broker["BROKER_SERVICE_PORT"]
    assert SERVICES["mosquitto"]["ports"] == [f"127.0.0.1:{broker['BROKER_PORT']}:{broker['BROKER_PORT']}"]


def test_broker_service_users_are_the_ones_the_stage_and_bridge_log_in_with() -> None:
    broker, bridge = SERVICES["mosquitto"]["environment"], SERVICES["bridge"]["environment"]
    assert (broker["BROKER_CLOUD_USERNAME"], broker["BROKER_CLOUD_PASSWORD"]) == \
        (STAGE["FLEET_MQTT_USERNAME"], STAGE["FLEET_MQTT_PASSWORD"])
    assert (broker["BROKER_BRIDGE_USERNAME"], broker["BROKER_BRIDGE_PASSWORD"]) == \
        (bridge["BRIDGE_MQTT_USERNAME"], bridge["BRIDGE_MQTT_PASSWORD"])
    # Published on loopback only.
    assert all(p.startswith("127.0.0.1:") for s in SERVICES.values() for p in s.get("ports", []))


def test_stage_endpoint_is_the_one_localstack_client_gives_lambda_containers(monkeypatch: pytest.MonkeyPatch) -> None:
    from localstack_client.config import get_service_endpoint

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("LOCALSTACK_HOST", "localhost.localstack.cloud:4566")
    assert STAGE["FLEET_DDB_ENDPOINT"] == get_service_endpoint("dynamodb")


def test_deploy_points_every_client_at_localstack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("LOCALSTACK_HOST", "localhost:4566")
    env = deploy.deploy_environment({"AWS_PROFILE": "production", "AWS_SECRET_ACCESS_KEY": "real", "PATH": "/bin"})
    assert env["AWS_ENDPOINT_URL"] == "http://localhost:4566"
    assert "AWS_PROFILE" not in env and env["AWS_SECRET_ACCESS_KEY"] == "test" and env["PATH"] == "/bin"
    assert deploy.command()[1:] == ["deploy", "--stage", "localstack"]


def test_deploy_refuses_an_aws_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://lambda.us-east-1.amazonaws.com")
    with pytest.raises(SystemExit):
        deploy.deploy_environment({})
