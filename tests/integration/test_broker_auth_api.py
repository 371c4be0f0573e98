"""POST /broker/authn and /broker/authz as a self-hosted broker (EMQX HTTP auth) calls them."""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from chalicelib.container import container, rebuild
from tests.conftest import Stack
from tests.support import Api, ApiResponse

SECRET = "broker-hook-secret-for-tests"


@pytest.fixture(autouse=True)
def broker_secret(stack: Stack) -> Iterator[None]:
    saved = os.environ.get("FLEET_BROKER_AUTH_SECRET")
    os.environ["FLEET_BROKER_AUTH_SECRET"] = SECRET
    rebuild()
    yield
    if saved is None:
        os.environ.pop("FLEET_BROKER_AUTH_SECRET", None)
    else:
        os.environ["FLEET_BROKER_AUTH_SECRET"] = saved
    rebuild()
    container()


def hook(api: Api, path: str, body: object, secret: str | None = SECRET) -> ApiResponse:
    headers = {"X-Broker-Secret": secret} if secret is not None else {}
    return api.call("POST", path, body, headers=headers, auth=False)


def test_device_logs_in_with_its_token_and_is_refused_after_rotation(api: Api) -> None:
    # Given a registered device
    device_id, token = api.create_device()
    username = f"{api.tenant_id}.{device_id}"
    # When the broker asks about its credentials
    first = hook(api, "/broker/authn", {"username": username, "password": token, "clientid": username})
    # Then it is allowed, and not a superuser
    assert first.status == 200 and first.body == {"result": "allow", "is_superuser": False}
    # When the token is rotated, the old one is denied at the next login and the new one allowed
    new_token = api.post(f"/customer/devices/{device_id}/token").body["provision_token"]
    old = hook(api, "/broker/authn", {"username": username, "password": token, "clientid": username})
    new = hook(api, "/broker/authn", {"username": username, "password": new_token, "clientid": username})
    assert old.body["result"] == "deny" and new.body["result"] == "allow"
    # And a disabled device is denied
    api.post(f"/customer/devices/{device_id}/disable")
    off = hook(api, "/broker/authn", {"username": username, "password": new_token, "clientid": username})
    assert off.body["result"] == "deny"


def test_another_tenants_device_cannot_log_in_with_its_own_token_under_a_foreign_name(api: Api,
                                                                                      other_api: Api) -> None:
    device_id, _ = api.create_device("shared-name")
    _, other_token = other_api.create_device("shared-name")
    username = f"{api.tenant_id}.{device_id}"
    resp = hook(api, "/broker/authn", {"username": username, "password": other_token, "clientid": username})
    assert resp.body["result"] == "deny"


def test_authz_allows_only_the_devices_own_subtree(api: Api) -> None:
    device_id, _ = api.create_device()
    username = f"{api.tenant_id}.{device_id}"
    own = hook(api, "/broker/authz", {"username": username, "action": "publish",
                                      "topic": f"tenant/{api.tenant_id}/device/{device_id}/status"})
    other = hook(api, "/broker/authz", {"username": username, "action": "subscribe",
                                        "topic": f"tenant/{api.tenant_id}/device/+/commands"})
    assert own.body == {"result": "allow", "is_superuser": False} and other.body["result"] == "deny"


@pytest.mark.parametrize("secret", [None, "", "wrong"])
def test_a_caller_without_the_secret_gets_401_and_learns_nothing(api: Api, secret: str | None) -> None:
    device_id, token = api.create_device()
    username = f"{api.tenant_id}.{device_id}"
    resp = hook(api, "/broker/authn", {"username": username, "password": token, "clientid": username}, secret)
    assert resp.status == 401 and "result" not in resp.body
    assert token not in str(resp.body)


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/broker/authz", {"username": "a.b", "topic": "x", "action": "delete"}, "action"),
    ("/broker/authz", {"username": "a.b", "action": "publish"}, "topic"),
    ("/broker/authn", {"password": "x"}, "username"),
    ("/broker/authn", ["not", "an", "object"], "body"),
])
def test_malformed_hook_bodies_are_400_naming_the_field(api: Api, path: str, body: object, field: str) -> None:
    resp = hook(api, path, body)
    assert resp.status == 400 and resp.body["field"] == field
