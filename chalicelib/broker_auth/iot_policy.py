"""AWS IoT Core custom authorizer: the device's username/password against the registry, a policy of its own topics."""
from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict

from chalicelib.broker_auth.service import BrokerAuthService, DeviceLogin
from chalicelib.core.identity import device_topic_filters

# IoT Core asks again after this long; a rotated or disabled token stops working then.
REFRESH_AFTER_S = 300
DISCONNECT_AFTER_S = 24 * 3600
DENY: dict[str, Any] = {"isAuthenticated": False}


class _Mqtt(BaseModel):
    model_config = ConfigDict(extra="ignore")

    username: str = ""
    password: str = ""
    clientId: str = ""


class _Protocol(BaseModel):
    model_config = ConfigDict(extra="ignore")

    mqtt: _Mqtt | None = None


class AuthorizerEvent(BaseModel):
    """What IoT Core sends a custom authorizer (only the MQTT part is used)."""

    model_config = ConfigDict(extra="ignore")

    protocolData: _Protocol = _Protocol()


def _username(raw: str) -> str:
    # Devices that name the authorizer append `?x-amz-customauthorizer-name=...` to the username.
    return raw.split("?", 1)[0]


def _password(raw: str) -> str:
    try:
        return base64.b64decode(raw, validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return ""


def arn_parts(function_arn: str) -> tuple[str, str, str]:
    """(partition, region, account) of the authorizer's own ARN."""
    parts = function_arn.split(":")
    return parts[1], parts[3], parts[4]


def device_policy(login: DeviceLogin, partition: str, region: str, account: str) -> dict[str, Any]:
    """Connect as itself; publish, receive and subscribe only under its own topics."""
    base = f"arn:{partition}:iot:{region}:{account}"
    topics = [f.removesuffix("#") + "*" for f in device_topic_filters(login.tenant_id, login.device_id)]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iot:Connect", "Resource": f"{base}:client/{login.username}"},
            {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
             "Resource": [f"{base}:topic/{t}" for t in topics]},
            {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": [f"{base}:topicfilter/{t}" for t in topics]},
        ],
    }


def authorize(event: dict[str, Any], function_arn: str, service: BrokerAuthService) -> dict[str, Any]:
    """The authorizer's answer: a scoped policy for a valid device, isAuthenticated false otherwise."""
    try:
        mqtt = AuthorizerEvent.model_validate(event).protocolData.mqtt
    except ValueError:
        return DENY
    if mqtt is None:
        return DENY
    username = _username(mqtt.username)
    login = service.login(username, _password(mqtt.password), _username(mqtt.clientId))
    if login is None:
        return DENY
    return {
        "isAuthenticated": True,
        # principalId must be alphanumeric (at most 128): a digest of the username.
        "principalId": hashlib.sha256(login.username.encode()).hexdigest(),
        "disconnectAfterInSeconds": DISCONNECT_AFTER_S,
        "refreshAfterInSeconds": REFRESH_AFTER_S,
        "policyDocuments": [device_policy(login, *arn_parts(function_arn))],
    }
