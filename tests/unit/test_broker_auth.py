"""Broker login and topic rules (EMQX HTTP hooks and the IoT Core authorizer), against a fake registry."""
from __future__ import annotations

import base64
from typing import Any

import pytest

from chalicelib.broker_auth.iot_policy import authorize
from chalicelib.broker_auth.service import BrokerAuthService, Result
from chalicelib.core.auth import tokens
from chalicelib.core.errors import Unauthenticated
from chalicelib.devices.schemas import DevicePrincipal

TOKEN, OTHER_TOKEN, DISABLED_TOKEN = tokens.new_token(), tokens.new_token(), tokens.new_token()
REGISTRY = {
    tokens.token_hash(TOKEN): DevicePrincipal(tenant_id="acme", device_id="cam-1", enabled=True, seen_at=None),
    tokens.token_hash(OTHER_TOKEN): DevicePrincipal(tenant_id="other", device_id="cam-1", enabled=True, seen_at=None),
    tokens.token_hash(DISABLED_TOKEN): DevicePrincipal(tenant_id="acme", device_id="cam-2", enabled=False,
                                                       seen_at=None),
}
ARN = "arn:aws:lambda:eu-west-1:111122223333:function:fleet-control-plane-prod-iot_authorizer"


@pytest.fixture
def service() -> BrokerAuthService:
    return BrokerAuthService(REGISTRY.get, "s3cret-value")


def test_device_with_its_own_token_and_client_id_is_allowed(service: BrokerAuthService) -> None:
    assert service.authenticate("acme.cam-1", TOKEN, "acme.cam-1") is Result.ALLOW


@pytest.mark.parametrize(("username", "password", "client_id"), [
    ("acme.cam-1", TOKEN, "other-client"),        # client id must equal the username
    ("acme.cam-1", OTHER_TOKEN, "acme.cam-1"),    # another tenant's device token
    ("other.cam-1", TOKEN, "other.cam-1"),        # right token, foreign tenant in the username
    ("acme.cam-2", DISABLED_TOKEN, "acme.cam-2"),  # disabled
    ("acme.cam-1", "", "acme.cam-1"),             # no password
    ("acme.cam-1", "tok_" + "x" * 300, "acme.cam-1"),
    ("cam-1", TOKEN, "cam-1"),                    # bare device id: not a device username
    ("acme.cam.1", TOKEN, "acme.cam.1"),          # two dots
    ("acme/cam-1", TOKEN, "acme/cam-1"),
])
def test_anything_but_the_exact_device_credentials_is_denied(service: BrokerAuthService, username: str,
                                                            password: str, client_id: str) -> None:
    assert service.authenticate(username, password, client_id) is Result.DENY


def test_service_users_are_left_to_the_brokers_own_authenticator(service: BrokerAuthService) -> None:
    assert service.authenticate("svc-bridge", "whatever", "fleet-mqtt-bridge") is Result.IGNORE


@pytest.mark.parametrize(("username", "topic", "action", "expected"), [
    ("acme.cam-1", "tenant/acme/device/cam-1/commands/ack", "publish", Result.ALLOW),
    ("acme.cam-1", "tenant/acme/device/cam-1/#", "subscribe", Result.ALLOW),
    ("acme.cam-1", "tenant/acme/device/cam-1/jobs/+/update", "all", Result.ALLOW),
    ("acme.cam-1", "tenant/acme/device/cam-2/commands", "subscribe", Result.DENY),
    ("acme.cam-1", "tenant/acme/device/+/commands", "subscribe", Result.DENY),
    ("acme.cam-1", "tenant/acme/device/cam-1x/status", "publish", Result.DENY),
    ("acme.cam-1", "tenant/acme/device/#", "subscribe", Result.DENY),
    ("acme.cam-1", "#", "subscribe", Result.DENY),
    ("acme.cam-1", "tenant/other/device/cam-1/status", "publish", Result.DENY),
    ("svc-cloud", "tenant/acme/device/cam-1/commands", "publish", Result.ALLOW),
    ("svc-cloud", "tenant/+/device/+/status", "subscribe", Result.DENY),
    ("svc-bridge", "tenant/+/device/+/status", "subscribe", Result.ALLOW),
    ("svc-bridge", "tenant/acme/device/cam-1/commands", "publish", Result.DENY),
    ("svc-observer", "tenant/#", "all", Result.ALLOW),
    ("svc-observer", "#", "subscribe", Result.DENY),
    ("svc-observer", "$SYS/broker/uptime", "subscribe", Result.DENY),
    ("stranger", "tenant/acme/device/cam-1/status", "publish", Result.DENY),
])
def test_topic_rules_match_the_local_acls(service: BrokerAuthService, username: str, topic: str, action: str,
                                         expected: Result) -> None:
    assert service.authorize(username, topic, action) is expected


@pytest.mark.parametrize("presented", [None, "", "s3cret-valuX", "s3cret-value "])
def test_a_caller_without_the_shared_secret_is_refused(service: BrokerAuthService, presented: str | None) -> None:
    with pytest.raises(Unauthenticated):
        service.check_secret(presented)


def test_no_configured_secret_disables_the_hooks() -> None:
    with pytest.raises(Unauthenticated):
        BrokerAuthService(REGISTRY.get, "").check_secret("")


def _event(username: str, password: str, client_id: str | None = None) -> dict[str, Any]:
    return {"protocols": ["mqtt"], "signatureVerified": False, "protocolData": {"mqtt": {
        "username": username, "password": base64.b64encode(password.encode()).decode(),
        "clientId": client_id or username.split("?")[0]}}, "connectionMetadata": {"id": "x"}}


def test_iot_authorizer_returns_a_policy_of_the_devices_own_topics(service: BrokerAuthService) -> None:
    # Given a device naming the authorizer in its username, as IoT Core devices do
    answer = authorize(_event("acme.cam-1?x-amz-customauthorizer-name=fleet-prod-devices", TOKEN), ARN, service)
    # Then it is in, with a policy for its own client id and subtrees only (its own and its thing's)
    assert answer["isAuthenticated"] is True and answer["principalId"].isalnum()
    assert answer["refreshAfterInSeconds"] <= 300
    [policy] = answer["policyDocuments"]
    base = "arn:aws:iot:eu-west-1:111122223333"
    assert policy["Statement"] == [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": f"{base}:client/acme.cam-1"},
        {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
         "Resource": [f"{base}:topic/tenant/acme/device/cam-1/*", f"{base}:topic/$aws/things/acme.cam-1/*"]},
        {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": [
            f"{base}:topicfilter/tenant/acme/device/cam-1/*", f"{base}:topicfilter/$aws/things/acme.cam-1/*"]},
    ]


@pytest.mark.parametrize("event", [
    _event("acme.cam-1", OTHER_TOKEN),
    _event("acme.cam-2", DISABLED_TOKEN),
    _event("acme.cam-1", TOKEN, client_id="someone-else"),
    {"protocolData": {"mqtt": {"username": "acme.cam-1", "password": "%%%not-base64", "clientId": "acme.cam-1"}}},
    {"protocolData": {"http": {"headers": {}}}},
    {"protocolData": "nonsense"},
    {},
])
def test_iot_authorizer_refuses_everything_else(service: BrokerAuthService, event: dict[str, Any]) -> None:
    assert authorize(event, ARN, service) == {"isAuthenticated": False}


def test_self_hosted_authz_gives_services_exactly_what_the_local_acls_give() -> None:
    """Every filter the bridge subscribes to and every topic the cloud answers AWS devices on is
    allowed by the hook, as by the local broker's ACL files (one table builds both)."""
    from chalicelib.aws_iot.topics import bridge_subscriptions
    from chalicelib.core.topics import bridge_subscriptions as own_subscriptions
    from infra.local.broker import bridge_acl, cloud_acl

    service = BrokerAuthService(lambda _hash: None, "s")
    for topic_filter in [*bridge_subscriptions(), *own_subscriptions()]:
        assert service.authorize("svc-bridge", topic_filter, "subscribe") == Result.ALLOW, topic_filter
        assert f"topic read {topic_filter}" in bridge_acl() or any(
            line.endswith("tenant/#") for line in bridge_acl())
    for topic in ["$aws/things/t.d/shadow/update/accepted", "$aws/things/t.d/jobs/notify-next",
                  "tenant/t/device/d/commands"]:
        assert service.authorize("svc-cloud", topic, "publish") == Result.ALLOW, topic
    assert any(line == "topic write $aws/things/#" for line in cloud_acl())
    # And nothing wider: the bridge reads no AWS answer topic, the cloud subscribes to nothing
    assert service.authorize("svc-bridge", "$aws/things/+/shadow/update/accepted", "subscribe") == Result.DENY
    assert service.authorize("svc-bridge", "$aws/things/#", "subscribe") == Result.DENY
    assert service.authorize("svc-cloud", "tenant/#", "subscribe") == Result.DENY
    assert service.authorize("svc-cloud", "#", "publish") == Result.DENY
