"""`$aws/things/...` as an attacker: other devices' and other tenants' shadows and jobs stay out of reach."""
from __future__ import annotations

import queue
import time
from typing import Any

import pytest

from chalicelib.container import container
from chalicelib.core.identity import mqtt_username
from tests.conftest import Stack
from tests.integration.aws_sdk_support import aws_bridge  # noqa: F401
from tests.integration.jobs_support import create_job
from tests.support import Api, MqttPeer

# The bridge fixture is imported above so that every test here runs with one.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("aws_bridge")]


def _try_subscribe(peer: MqttPeer, topic: str) -> None:
    # Mosquitto answers a refused filter with a failure SUBACK: the subscription just never matches.
    peer.subscribe(topic)


def _nothing(peer: MqttPeer, wait: float = 1.0) -> None:
    with pytest.raises(queue.Empty):
        peer.expect(timeout=wait)


def test_other_devices_and_tenants_receive_nothing_and_change_nothing(stack: Stack, api: Api,
                                                                      other_api: Api) -> None:
    victim_id, victim_token = api.create_device("aws-victim")
    peer_id, peer_token = api.create_device("aws-peer")
    outsider_id, outsider_token = other_api.create_device("aws-out")
    victim_thing = mqtt_username(api.tenant_id, victim_id)
    victim = stack.device_peer(api.tenant_id, victim_id, victim_token)
    peer = stack.device_peer(api.tenant_id, peer_id, peer_token)
    outsider = stack.device_peer(other_api.tenant_id, outsider_id, outsider_token)
    attackers = (peer, outsider)
    try:
        victim.subscribe(f"$aws/things/{victim_thing}/#")
        for attacker in attackers:
            for topic in (f"$aws/things/{victim_thing}/#", "$aws/things/+/shadow/#", "$aws/#", "#",
                          f"$aws/things/{victim_thing}/jobs/notify-next"):
                _try_subscribe(attacker, topic)

        # When the victim's shadow and jobs produce events and answers
        api.patch(f"/customer/devices/{victim_id}/twin/desired", {"desired": {"secret": 42}})
        create_job(api, target_device_id=victim_id)
        victim.publish(f"$aws/things/{victim_thing}/shadow/get", {"clientToken": "v"})
        seen: list[str] = []
        deadline = time.monotonic() + 10
        while "get/accepted" not in " ".join(seen) and time.monotonic() < deadline:
            seen.append(victim.expect()[0])
        assert any(t.endswith("/shadow/update/delta") for t in seen)
        assert any(t.endswith("/jobs/notify-next") for t in seen)

        # Then neither another device of the tenant nor another tenant's device received any of it
        for attacker in attackers:
            _nothing(attacker, 0.5)

        # And their writes to the victim's topics are dropped by the broker, never applied
        for attacker in attackers:
            attacker.publish(f"$aws/things/{victim_thing}/shadow/update",
                             {"state": {"reported": {"secret": 0}}, "clientToken": "x"})
            attacker.publish(f"$aws/things/{victim_thing}/shadow/delete", {})
        time.sleep(1.0)
        twin: dict[str, Any] = api.get(f"/customer/devices/{victim_id}/twin").body
        assert twin["reported"] == {} and twin["desired"] == {"secret": 42}
        _nothing(victim, 0.3)
    finally:
        for client in (victim, *attackers):
            client.close()


def test_a_thing_name_of_another_tenant_is_not_found_for_the_operator(api: Api, other_api: Api) -> None:
    device_id, _ = api.create_device("aws-own")
    assert other_api.get(f"/customer/devices/{device_id}/shadows").status == 404
    assert other_api.get(f"/customer/devices/{device_id}/shadows/config").status == 404
    assert other_api.patch(f"/customer/devices/{device_id}/shadows/config/desired", {"desired": {"a": 1}}).status == 404
    assert api.get(f"/customer/devices/{device_id}/shadows/config").status == 404
    assert api.get(f"/customer/devices/{device_id}").body["thing_name"] == f"{api.tenant_id}.{device_id}"


def test_a_recreated_device_does_not_inherit_named_shadows(stack: Stack, api: Api) -> None:
    api.create_device("aws-reborn")
    shadow = container().shadow_service
    shadow.on_message(api.tenant_id, "aws-reborn", "$aws/shadow/name/cfg/update", {"state": {"reported": {"a": 1}}})
    assert api.get("/customer/devices/aws-reborn/shadows").body == {"shadows": ["cfg"]}
    assert api.delete("/customer/devices/aws-reborn").status == 200
    api.create_device("aws-reborn")
    assert api.get("/customer/devices/aws-reborn/shadows").body == {"shadows": []}
    assert api.get("/customer/devices/aws-reborn/shadows/cfg").status == 404
