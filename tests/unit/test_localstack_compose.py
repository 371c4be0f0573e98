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


def test_compose_has_localstack_broker_and_bridge_on_one_named_network() -> None:
    # The tables come with the deployed template (infra.localstack.deploy), as on the host.
    assert set(SERVICES) == {"localstack", "mosquitto", "bridge"}
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


def test_start_order_waits_for_health() -> None:
    assert SERVICES["mosquitto"]["depends_on"] == {"localstack": {"condition": "service_healthy"}}
    assert SERVICES["bridge"]["depends_on"]["mosquitto"] == {"condition": "service_healthy"}
    for name in ("localstack", "mosquitto", "bridge"):
        assert SERVICES[name]["healthcheck"]["test"][0] == "CMD"
    assert SERVICES["bridge"]["healthcheck"]["test"][1:] == ["python", "-m", "mqtt_bridge.health"]


def test_fleet_variables_are_settings_and_match_the_stage() -> None:
    env = SERVICES["mosquitto"]["environment"]
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


def test_stage_leaves_the_endpoint_to_localstack() -> None:
    # LocalStack gives each function AWS_ENDPOINT_URL (its own address as the function reaches it,
    # in a container or on the host), which botocore follows when the stage names no endpoint.
    assert STAGE["FLEET_DDB_ENDPOINT"] == ""


def test_deploy_points_every_client_at_localstack_with_dummy_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("LOCALSTACK_HOST", "localhost:4566")
    target = deploy.target(None)
    assert target.endpoint == "http://localhost:4566"
    assert target.credentials == {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    assert target.stack_name == "fleet-localstack"
    # The compose network's broker: the template's defaults, no parameter needed.
    assert deploy.parameters(None) == {}


def test_host_mode_deploy_follows_make_localstack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("LOCALSTACK_HOST", raising=False)
    state = {"endpoint": "http://127.0.0.1:4599", "mqtt": {"host": "127.0.0.1", "port": 1885, "service_port": 1886}}
    assert deploy.target(state).endpoint == "http://127.0.0.1:4599"
    assert deploy.parameters(state) == {"MqttHost": "127.0.0.1", "MqttPort": "1886"}


def test_deploy_refuses_an_aws_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://lambda.us-east-1.amazonaws.com")
    with pytest.raises(SystemExit):
        deploy.target(None)


def test_compose_and_make_localstack_run_the_same_services() -> None:
    from infra.localstack.host import SERVICES as HOST_SERVICES

    assert SERVICES["localstack"]["environment"]["SERVICES"] == HOST_SERVICES
