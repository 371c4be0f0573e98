"""What the merged template holds per stage: sign-in, the broker's address, the functions' names."""
from __future__ import annotations

from infra.aws.iam import lambda_name
from infra.aws.template import LOGICAL_IDS, merge_template


def test_prod_signs_operators_in_through_its_idp_and_publishes_through_iot_core() -> None:
    template = merge_template("prod", "fleet-prod", {})
    assert {"OperatorJwksUrl", "OperatorIssuer", "OperatorAudience"} <= set(template["Parameters"])
    assert "OperatorUserPool" in template["Resources"] and "CreateUserPool" in template["Conditions"]
    assert "MqttHost" not in template["Parameters"]
    variables = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert "FLEET_JWT_JWKS_URL" in variables and "FLEET_MQTT_HOST" not in variables


def test_localstack_signs_its_own_tokens_and_takes_the_broker_address_at_deploy() -> None:
    template = merge_template("localstack", "fleet-ls", {})
    assert not any(name.startswith("Operator") for name in template["Parameters"])
    assert not any(r["Type"].startswith("AWS::Cognito") for r in template["Resources"].values() if "Type" in r)
    assert "CreateUserPool" not in template.get("Conditions", {})
    assert not any(k.startswith("OperatorUserPool") for k in template["Outputs"])
    # The compose network's broker by default; `make localstack` passes its own at deploy.
    assert template["Parameters"]["MqttHost"]["Default"] == "mosquitto"
    variables = template["Resources"]["DeviceMessage"]["Properties"]["Environment"]["Variables"]
    assert variables["FLEET_MQTT_HOST"] == {"Ref": "MqttHost"} and variables["FLEET_MQTT_PORT"] == {"Ref": "MqttPort"}
    assert "FLEET_JWT_JWKS_URL" not in variables


def test_functions_get_the_names_their_policies_and_the_bridge_use() -> None:
    for stage in ("prod", "localstack"):
        resources = merge_template(stage, "p", {})["Resources"]
        assert {resources[logical]["Properties"]["FunctionName"] for logical in LOGICAL_IDS.values()} == \
            {lambda_name(stage, name) for name in LOGICAL_IDS}
