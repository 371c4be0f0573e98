"""A second tenant attacks the broker: service names, reused ids, stolen client ids, odd claims.

Each test is a defect that was reproduced against the old broker set-up; together they
show that no tenant can see, forge or knock over another tenant's traffic.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest

from chalicelib.commands.models import CommandRef
from chalicelib.commands.schemas import CommandStatus
from chalicelib.container import container
from chalicelib.core.auth.operator import issue_local_token
from chalicelib.core.identity import mqtt_username
from chalicelib.core.messaging.base import Message
from chalicelib.core.messaging.paho import PahoPublisher
from mqtt_bridge.bridge import Bridge
from mqtt_bridge.config import BridgeSettings
from mqtt_bridge.invokers import InProcessInvoker
from tests.commands_support import send, wait_until
from tests.conftest import Stack
from tests.support import Api, MqttPeer, mqtt_peer

pytestmark = pytest.mark.slow

SERVICE_NAMES = ["svc-cloud", "svc-bridge", "svc-observer", "cloud", "bridge", "observer"]


def _track_disconnects(peer: MqttPeer) -> list[object]:
    drops: list[object] = []
    peer.client.on_disconnect = lambda c, u, flags, rc, props: drops.append(rc)
    return drops


def test_a_device_named_after_a_service_gets_no_service_power(stack: Stack, api: Api, other_api: Api) -> None:
    # Given a victim tenant with a device listening for its commands
    victim_id, victim_token = api.create_device()
    victim = stack.device_peer(api.tenant_id, victim_id, victim_token)
    victim.subscribe(f"tenant/{api.tenant_id}/device/{victim_id}/commands")
    # And an attacker tenant that registers a device under every service name
    tokens = {name: other_api.create_device(name)[1] for name in SERVICE_NAMES}
    stack.sync.sync_once()
    # When the attacker logs in with the bare service names, on either listener
    for name, token in tokens.items():
        for port in (stack.broker.port, stack.broker.service_port):
            peer = mqtt_peer(stack.broker.host, port, name, token, wait=False)
            # Then the broker refuses every one of them
            assert not peer.connected.wait(1.0), f"{name} logged in on {port}"
            peer.close()
    # And logged in as its own devices, a wildcard subscription reaches nothing of the victim's
    spies = [stack.device_peer(other_api.tenant_id, name, token) for name, token in tokens.items()]
    for spy in spies:
        spy.subscribe("#")
        spy.subscribe(f"tenant/{api.tenant_id}/#")
    forged = spies[0]
    forged.publish(f"tenant/{api.tenant_id}/device/{victim_id}/commands",
                   {"command_id": "forged", "command_type": "reboot", "command_params": {}})
    # While the real publisher still reaches the victim
    created = send(api, victim_id, "ping", {})
    assert created["mqtt_published"] is True
    _, payload, _ = victim.expect()
    assert payload["command_id"] == created["command_id"]
    with pytest.raises(queue.Empty):
        victim.expect(timeout=0.7)  # the forged command never arrived
    for spy in spies:
        seen = [t for t, _, _ in list(spy.messages.queue) if f"/{api.tenant_id}/" in t]
        assert seen == [], seen
        spy.close()
    victim.close()


def test_the_same_device_id_in_another_tenant_disconnects_no_one(stack: Stack, api: Api, other_api: Api) -> None:
    # Given tenant A's device 'dup' connected and listening
    _, token_a = api.create_device("dup")
    device_a = stack.device_peer(api.tenant_id, "dup", token_a)
    drops = _track_disconnects(device_a)
    device_a.subscribe(f"tenant/{api.tenant_id}/device/dup/commands")
    # When tenant B registers a device with the same id, the broker syncs, and B connects
    _, token_b = other_api.create_device("dup")
    stack.sync.sync_once()
    device_b = stack.device_peer(other_api.tenant_id, "dup", token_b)
    device_b.subscribe(f"tenant/{other_api.tenant_id}/device/dup/commands")
    # Then A is still connected and gets its own commands, and B gets only its own
    sent_a = send(api, "dup", "ping", {})
    sent_b = send(other_api, "dup", "ping", {})
    assert sent_a["mqtt_published"] and sent_b["mqtt_published"]
    assert device_a.expect()[1]["command_id"] == sent_a["command_id"]
    assert device_b.expect()[1]["command_id"] == sent_b["command_id"]
    assert drops == []
    # And each logs in only under its own tenant-qualified name
    assert {mqtt_username(api.tenant_id, "dup"), mqtt_username(other_api.tenant_id, "dup")} == {
        f"{api.tenant_id}.dup", f"{other_api.tenant_id}.dup"}
    device_a.close()
    device_b.close()


@pytest.fixture
def bridge(stack: Stack) -> Iterator[Bridge]:
    user = stack.users["bridge"]
    settings = BridgeSettings(mqtt_host=stack.broker.host, mqtt_port=stack.broker.service_port,
                              mqtt_username=user.username, mqtt_password=user.password,
                              client_id="svc-bridge-attack", workers=4, retry_min_s=0.05, retry_max_s=0.3,
                              reconnect_min_s=1, reconnect_max_s=2, shutdown_grace_s=5)
    running = Bridge(settings, InProcessInvoker()).start()
    assert running.subscribed.wait(10)
    yield running
    running.shutdown()
    stack.peer(user.username, user.password, client_id=settings.client_id, clean=True).close()


def test_stealing_client_ids_during_an_ack_burst_loses_no_ack(stack: Stack, api: Api, other_api: Api,
                                                              bridge: Bridge) -> None:
    # Given a victim device with 100 commands waiting for its ACK
    victim_id, victim_token = api.create_device()
    victim = stack.device_peer(api.tenant_id, victim_id, victim_token)
    victim_drops = _track_disconnects(victim)
    command_ids = [send(api, victim_id, "ping", {})["command_id"] for _ in range(100)]
    # And an attacker device that keeps connecting with the bridge's and the victim's client ids
    _, attacker_token = other_api.create_device("thief")
    stack.sync.sync_once()
    stolen_ids = ["svc-bridge-attack", mqtt_username(api.tenant_id, victim_id), victim_id]
    stop = threading.Event()
    attempts: list[bool] = []

    def steal() -> None:
        while not stop.is_set():
            for client_id in stolen_ids:
                thief = mqtt_peer(stack.broker.host, stack.broker.port, mqtt_username(other_api.tenant_id, "thief"),
                                  attacker_token, client_id=client_id, clean=True, wait=False)
                attempts.append(thief.connected.wait(2))
                thief.close()

    thread = threading.Thread(target=steal, daemon=True)
    thread.start()
    # When the victim ACKs all 100 over MQTT while the theft goes on
    try:
        for command_id in command_ids:
            victim.publish(f"tenant/{api.tenant_id}/device/{victim_id}/commands/ack",
                           {"command_id": command_id, "status": "ok", "details": {}})

        def delivered() -> int:
            repo = container().command_repository
            found = [repo.get(CommandRef(api.tenant_id, victim_id, c)) for c in command_ids]
            return sum(1 for c in found if c is not None and c.status == CommandStatus.DELIVERED)

        # Then every ACK reaches the database: none lost to a kicked bridge session
        assert wait_until(lambda: delivered() == 100, timeout=60), f"{delivered()} of 100 delivered"
    finally:
        stop.set()
        thread.join(10)
    # And the thief did connect (as itself), but neither the victim nor the bridge was kicked
    assert any(attempts)
    assert victim_drops == []
    assert bridge.subscribed.is_set()
    victim.close()


def test_a_tenant_claim_with_a_trailing_newline_is_401(api: Api) -> None:
    # Given a token whose tenant claim is 'demo\n' (it once passed a re.match(...$) check)
    token = issue_local_token(container().settings, "demo\n")
    # When it calls any operator route
    resp = api.get("/customer/devices", headers={"Authorization": f"Bearer {token}"}, auth=False)
    # Then it is refused as unauthenticated
    assert resp.status == 401, resp.body


@pytest.fixture
def publisher(stack: Stack) -> Iterator[PahoPublisher]:
    user = stack.users["cloud"]
    pub = PahoPublisher(stack.broker.host, stack.broker.service_port, user.username, user.password,
                        client_id="svc-cloud-attack", timeout_s=2.0)
    yield pub
    pub.close()


@pytest.mark.parametrize("bad_topic", ["tenant/demo\n/device/x/shadow/desired", "tenant/a/device/+/commands",
                                       "tenant/a\x00/device/x/commands"])
def test_a_topic_the_broker_would_refuse_is_dropped_and_never_blocks_others(
        stack: Stack, publisher: PahoPublisher, bad_topic: str) -> None:
    watcher = stack.observer()
    watcher.subscribe("tenant/ok/device/d/#")
    # When a message for a malformed topic is published (a retained clear, as deletes send)
    assert publisher.publish(Message.clear_retained(bad_topic)) is False
    # Then /health says so, with the reason
    health = publisher.health()
    assert health["consecutive_failures"] == 1 and "topic" in health["last_error"]
    # And the next publish of anyone goes through, and clears the failure count
    assert publisher.publish(Message("tenant/ok/device/d/commands", {"n": 1})) is True
    assert watcher.expect()[1] == {"n": 1}
    assert publisher.health()["consecutive_failures"] == 0
    watcher.close()


def test_a_publish_the_broker_refuses_is_not_resent_for_ever(stack: Stack, publisher: PahoPublisher) -> None:
    watcher = stack.observer()
    watcher.subscribe("tenant/ok/device/e/#")
    # When the publisher sends outside its ACL three times (the broker answers 'not authorized')
    for _ in range(3):
        assert publisher.publish(Message("elsewhere/not-ours", {"x": 1})) is False
    # Then /health reports the broker as not ok, naming the refusal
    health = publisher.health()
    assert health["ok"] is False and health["reachable"] is True
    assert health["consecutive_failures"] == 3 and "refused" in health["last_error"]
    # And the next good publish is delivered at once (nothing refused is queued ahead of it)
    assert publisher.publish(Message("tenant/ok/device/e/commands", {"n": 2})) is True
    assert watcher.expect()[1] == {"n": 2}
    assert publisher.health()["ok"] is True
    watcher.close()


def test_the_service_listener_refuses_device_credentials(stack: Stack, api: Api) -> None:
    device_id, token = api.create_device()
    stack.sync.sync_once()
    peer = mqtt_peer(stack.broker.host, stack.broker.service_port, mqtt_username(api.tenant_id, device_id), token,
                     wait=False)
    assert not peer.connected.wait(1.0)
    assert peer.connect_rc and all(rc == mqtt.ReasonCode(mqtt.PacketTypes.CONNACK, "Not authorized")
                                   for rc in peer.connect_rc)
    peer.close()


def test_a_poison_ack_of_one_tenant_does_not_stall_another_tenants_acks(stack: Stack, api: Api, other_api: Api,
                                                                         bridge: Bridge) -> None:
    # Given an attacker device and a victim device with a command waiting for its ACK
    attacker_id, attacker_token = other_api.create_device()
    attacker = stack.device_peer(other_api.tenant_id, attacker_id, attacker_token)
    attacker_cmd = send(other_api, attacker_id, "ping", {})["command_id"]
    victim_id, victim_token = api.create_device()
    victim = stack.device_peer(api.tenant_id, victim_id, victim_token)
    victim_cmd = send(api, victim_id, "ping", {})["command_id"]
    # When the attacker sends ACKs nested deep enough to break an encoder, then floods its lane
    for depth in (950, 960, 970):
        attacker.publish(f"tenant/{other_api.tenant_id}/device/{attacker_id}/commands/ack",
                         b'{"command_id": "' + attacker_cmd.encode() + b'", "status": "ok", "details": {"a": '
                         + b"[" * depth + b"]" * depth + b"}}")
    for _ in range(120):
        attacker.publish(f"tenant/{other_api.tenant_id}/device/{attacker_id}/status", {})
    # And the victim then ACKs over MQTT
    victim.publish(f"tenant/{api.tenant_id}/device/{victim_id}/commands/ack",
                   {"command_id": victim_cmd, "status": "ok", "details": {}})

    # Then the victim's ACK is delivered, and the poison ACKs changed nothing
    def status(tenant_id: str, device_id: str, command_id: str) -> CommandStatus | None:
        found = container().command_repository.get(CommandRef(tenant_id, device_id, command_id))
        return found.status if found else None

    assert wait_until(lambda: status(api.tenant_id, victim_id, victim_cmd) == CommandStatus.DELIVERED, timeout=30)
    assert wait_until(lambda: bridge.pending() == 0, timeout=30)
    assert status(other_api.tenant_id, attacker_id, attacker_cmd) == CommandStatus.QUEUED
    attacker.close()
    victim.close()


def test_a_retained_device_message_is_not_replayed_to_the_bridge(stack: Stack, api: Api) -> None:
    from mqtt_bridge.invokers import InProcessInvoker as Inner
    from tests.integration.bridge_support import CountingInvoker

    # Given a device that retains a status message while no bridge runs
    device_id, token = api.create_device()
    device = stack.device_peer(api.tenant_id, device_id, token)
    topic = f"tenant/{api.tenant_id}/device/{device_id}/status"
    device.publish(topic, {"seq": "retained"}, retain=True)
    user = stack.users["bridge"]
    settings = BridgeSettings(mqtt_host=stack.broker.host, mqtt_port=stack.broker.service_port,
                              mqtt_username=user.username, mqtt_password=user.password,
                              client_id="svc-bridge-retain", workers=2, retry_min_s=0.05, retry_max_s=0.3,
                              reconnect_min_s=1, reconnect_max_s=2, shutdown_grace_s=5)
    counting = CountingInvoker(Inner())
    # When a bridge starts (its subscription replays the retained copy) and a live message follows
    running = Bridge(settings, counting).start()
    try:
        assert running.subscribed.wait(10)
        device.publish(topic, {"seq": "live"})
        assert wait_until(lambda: b'{"seq": "live"}' in counting.done, timeout=15)
        # Then only the live message was forwarded; the retained replay was dropped
        assert counting.done == [b'{"seq": "live"}']
    finally:
        running.shutdown()
        device.publish(topic, b"", retain=True)  # clear it
        stack.peer(user.username, user.password, client_id=settings.client_id, clean=True).close()
        device.close()
