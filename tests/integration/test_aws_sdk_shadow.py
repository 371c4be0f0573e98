"""Devices written for AWS IoT: the SDK's own shadow client against Mosquitto, the bridge and the twin."""
from __future__ import annotations

import time
from typing import Any

import pytest
from awsiot import iotshadow

from chalicelib.core.identity import mqtt_username
from tests.conftest import Stack
from tests.integration.aws_sdk_support import QOS, Inbox, aws_bridge, sdk_connection  # noqa: F401
from tests.support import Api

# The bridge fixture is imported above so that every test here runs with one.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("aws_bridge")]


def _classic_client(stack: Stack, api: Api, device_id: str, token: str) -> tuple[Any, iotshadow.IotShadowClient,
                                                                                 Inbox, str]:
    stack.sync.sync_once()
    thing = mqtt_username(api.tenant_id, device_id)
    connection = sdk_connection(stack, thing, token)
    client = iotshadow.IotShadowClient(connection)
    inbox = Inbox()
    sub = iotshadow.ShadowDeltaUpdatedSubscriptionRequest(thing_name=thing)
    futures = [
        client.subscribe_to_get_shadow_accepted(iotshadow.GetShadowSubscriptionRequest(thing_name=thing), QOS,
                                                inbox.callback("get/accepted"))[0],
        client.subscribe_to_get_shadow_rejected(iotshadow.GetShadowSubscriptionRequest(thing_name=thing), QOS,
                                                inbox.callback("get/rejected"))[0],
        client.subscribe_to_update_shadow_accepted(iotshadow.UpdateShadowSubscriptionRequest(thing_name=thing), QOS,
                                                   inbox.callback("update/accepted"))[0],
        client.subscribe_to_update_shadow_rejected(iotshadow.UpdateShadowSubscriptionRequest(thing_name=thing), QOS,
                                                   inbox.callback("update/rejected"))[0],
        client.subscribe_to_shadow_delta_updated_events(sub, QOS, inbox.callback("delta"))[0],
        client.subscribe_to_shadow_updated_events(iotshadow.ShadowUpdatedSubscriptionRequest(thing_name=thing), QOS,
                                                  inbox.callback("documents"))[0],
    ]
    for f in futures:
        f.result(10)
    return connection, client, inbox, thing


def _until(check: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_classic_shadow_flow_with_the_sdk(stack: Stack, api: Api) -> None:
    device_id, token = api.create_device("aws-shadow")
    connection, client, inbox, thing = _classic_client(stack, api, device_id, token)
    twin = f"/customer/devices/{device_id}/twin"
    try:
        # Given a device that never wrote its shadow: get is rejected 404, with the client token
        client.publish_get_shadow(iotshadow.GetShadowRequest(thing_name=thing, client_token="t-0"), QOS).result(5)
        rejected = inbox.next("get/rejected")
        assert (rejected.code, rejected.client_token) == (404, "t-0")

        # When the operator PATCHes desired, the device gets update/delta in AWS's format
        assert api.patch(f"{twin}/desired", {"desired": {"color": "red", "level": 3}}).status == 200
        delta = inbox.next("delta")
        assert delta.state == {"color": "red", "level": 3}
        assert isinstance(delta.metadata["color"]["timestamp"], int) and delta.version >= 1

        # And get answers the whole document with the delta
        client.publish_get_shadow(iotshadow.GetShadowRequest(thing_name=thing, client_token="t-1"), QOS).result(5)
        got = inbox.next("get/accepted")
        assert got.state.desired == {"color": "red", "level": 3} and got.state.delta == delta.state
        assert got.client_token == "t-1" and got.version == delta.version

        # When the device reports what it applied: update/accepted, and the operator sees synced
        report = iotshadow.UpdateShadowRequest(thing_name=thing, client_token="t-2", version=got.version,
                                               state=iotshadow.ShadowState(reported={"color": "red", "level": 3}))
        client.publish_update_shadow(report, QOS).result(5)
        accepted = inbox.next("update/accepted")
        while accepted.client_token is None:  # the operator's PATCH was accepted too, as on AWS IoT
            accepted = inbox.next("update/accepted")
        assert accepted.client_token == "t-2" and accepted.version == got.version + 1
        assert accepted.state.reported == {"color": "red", "level": 3}
        documents = inbox.next("documents")
        while documents.current.version != accepted.version:
            documents = inbox.next("documents")
        assert documents.previous.state.desired == {"color": "red", "level": 3}
        body = api.get(twin).body
        assert body["sync_status"] == "synced" and body["delta"] == {}
        assert body["reported"] == {"color": "red", "level": 3}

        # A stale version is rejected 409 and changes nothing
        stale = iotshadow.UpdateShadowRequest(thing_name=thing, client_token="t-3", version=got.version,
                                              state=iotshadow.ShadowState(reported={"color": "blue"}))
        client.publish_update_shadow(stale, QOS).result(5)
        conflict = inbox.next("update/rejected")
        assert (conflict.code, conflict.client_token) == (409, "t-3")
        assert api.get(twin).body["reported"]["color"] == "red"
    finally:
        connection.disconnect().result(5)


def test_a_report_that_leaves_a_difference_keeps_the_twin_pending(stack: Stack, api: Api) -> None:
    device_id, token = api.create_device("aws-pending")
    connection, client, inbox, thing = _classic_client(stack, api, device_id, token)
    twin = f"/customer/devices/{device_id}/twin"
    try:
        api.patch(f"{twin}/desired", {"desired": {"mode": "eco", "fan": True}})
        inbox.next("delta")
        report = iotshadow.UpdateShadowRequest(thing_name=thing, state=iotshadow.ShadowState(
            reported={"mode": "eco", "fan": 1}), client_token="r-1")
        client.publish_update_shadow(report, QOS).result(5)
        while inbox.next("update/accepted").client_token != "r-1":
            pass
        # `true` is not `1`: the fan is still to be applied
        body = api.get(twin).body
        assert body["sync_status"] == "pending" and body["delta"] == {"fan": True}
    finally:
        connection.disconnect().result(5)


def test_named_shadow_with_the_sdk_and_the_operator(stack: Stack, api: Api) -> None:
    device_id, token = api.create_device("aws-named")
    stack.sync.sync_once()
    thing = mqtt_username(api.tenant_id, device_id)
    connection = sdk_connection(stack, thing, token)
    client = iotshadow.IotShadowClient(connection)
    inbox = Inbox()
    sub = dict(thing_name=thing, shadow_name="config")
    try:
        for f in (
            client.subscribe_to_update_named_shadow_accepted(iotshadow.UpdateNamedShadowSubscriptionRequest(**sub),
                                                             QOS, inbox.callback("update/accepted"))[0],
            client.subscribe_to_named_shadow_delta_updated_events(
                iotshadow.NamedShadowDeltaUpdatedSubscriptionRequest(**sub), QOS, inbox.callback("delta"))[0],
            client.subscribe_to_get_named_shadow_accepted(iotshadow.GetNamedShadowSubscriptionRequest(**sub), QOS,
                                                          inbox.callback("get/accepted"))[0],
        ):
            f.result(10)
        # The device creates its named shadow
        client.publish_update_named_shadow(iotshadow.UpdateNamedShadowRequest(
            **sub, client_token="n-1", state=iotshadow.ShadowState(reported={"rate": 10})), QOS).result(5)
        created = inbox.next("update/accepted")
        assert created.version == 1 and created.client_token == "n-1"

        # The operator sees it and changes desired: the device gets the named delta
        path = f"/customer/devices/{device_id}/shadows/config"
        assert api.get(path).body["state"]["reported"] == {"rate": 10}
        assert api.get(f"/customer/devices/{device_id}/shadows").body == {"shadows": ["config"]}
        patched = api.patch(f"{path}/desired", {"desired": {"rate": 20}, "version": 1})
        assert patched.status == 200, patched.body
        assert inbox.next("delta").state == {"rate": 20}
        assert api.patch(f"{path}/desired", {"desired": {"rate": 30}, "version": 1}).status == 409

        # The classic shadow (the twin) is untouched
        assert api.get(f"/customer/devices/{device_id}/twin").body["desired"] == {}
        client.publish_get_named_shadow(iotshadow.GetNamedShadowRequest(**sub), QOS).result(5)
        assert inbox.next("get/accepted").state.delta == {"rate": 20}
    finally:
        connection.disconnect().result(5)
