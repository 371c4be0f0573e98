"""Commands end to end through the real MQTT bridge: device ACKs over MQTT reach the same
domain code as HTTP ACKs, and none is lost when the bridge is killed and restarted."""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.commands.models import CommandModel, CommandRef, device_key
from chalicelib.commands.schemas import Command, CommandStatus, CreateCommand
from chalicelib.container import container
from infra.local.processes import Child, python_module
from mqtt_bridge.bridge import Bridge
from mqtt_bridge.config import BridgeSettings
from mqtt_bridge.invokers import InProcessInvoker
from tests.commands_support import send, wait_until
from tests.conftest import Stack
from tests.support import Api


@pytest.fixture
def bridge_settings(stack: Stack) -> Iterator[BridgeSettings]:
    """A bridge identity of its own; its persistent session is removed afterwards."""
    user = stack.users["bridge"]
    settings = BridgeSettings(mqtt_host=stack.broker.host, mqtt_port=stack.broker.service_port,
                              mqtt_username=user.username, mqtt_password=user.password,
                              client_id=f"fleet-cmd-bridge-{uuid.uuid4().hex[:8]}",
                              workers=4, retry_min_s=0.05, retry_max_s=0.5, reconnect_min_s=1, reconnect_max_s=2)
    yield settings
    # Left alone, an offline persistent session would queue every later test's messages.
    stack.peer(user.username, user.password, client_id=settings.client_id, clean=True).close()


def _status(tenant_id: str, device_id: str, command_id: str) -> CommandStatus | None:
    # Read from the table, not through the in-process API the bridge's workers are using.
    found = container().command_repository.get(CommandRef(tenant_id, device_id, command_id))
    return found.status if found else None


def _queued(tenant_id: str, device_id: str) -> int:
    return CommandModel.queued_by_device.count(device_key(tenant_id, device_id), consistent_read=True)


def test_seed_000_flow_through_the_bridge(stack: Stack, api: Api, bridge_settings: BridgeSettings) -> None:
    # Given a running bridge and a device subscribed to its commands
    bridge = Bridge(bridge_settings, InProcessInvoker()).start()
    assert bridge.subscribed.wait(10)
    device_id, token = api.create_device()
    device = stack.device_peer(api.tenant_id, device_id, token)
    device.subscribe(f"tenant/{api.tenant_id}/device/{device_id}/commands")
    try:
        # When the operator sends a ping, and the device ACKs what it received over MQTT
        created = send(api, device_id, "ping", {}, expires_in_minutes=60)
        _, payload, _ = device.expect()
        device.publish(f"tenant/{api.tenant_id}/device/{device_id}/commands/ack",
                       {"command_id": payload["command_id"], "status": "ok", "details": {"message": "pong"}})
        # Then the bridge forwards it and the command becomes delivered
        assert wait_until(lambda: _status(api.tenant_id, device_id, created["command_id"])
                          is CommandStatus.DELIVERED, 15)
        # And a duplicate of the ACK (QoS 1 is at-least-once) is accepted without a change
        acked_at = api.get(f"/customer/devices/{device_id}/commands/{created['command_id']}").body["acked_at"]
        forwarded = bridge.stats.forwarded
        device.publish(f"tenant/{api.tenant_id}/device/{device_id}/commands/ack",
                       {"command_id": payload["command_id"], "status": "ok", "details": {"message": "pong"}})
        assert wait_until(lambda: bridge.stats.forwarded > forwarded and bridge.pending() == 0, 15)
        assert api.get(f"/customer/devices/{device_id}/commands/{created['command_id']}").body["acked_at"] == acked_at
    finally:
        device.close()
        assert bridge.shutdown()


def _bridge_process(settings: BridgeSettings, log: Path) -> Child:
    env = {
        "BRIDGE_MQTT_HOST": settings.mqtt_host, "BRIDGE_MQTT_PORT": str(settings.mqtt_port),
        "BRIDGE_MQTT_USERNAME": settings.mqtt_username, "BRIDGE_MQTT_PASSWORD": settings.mqtt_password,
        "BRIDGE_CLIENT_ID": settings.client_id, "BRIDGE_INVOKER": "in-process",
        "BRIDGE_RECONNECT_MIN_S": "1", "BRIDGE_RETRY_MIN_S": "0.05", "PYTHONUNBUFFERED": "1",
    }
    return Child("bridge", python_module("mqtt_bridge"), log, env).start()


def test_bridge_killed_while_devices_keep_acking_loses_no_ack(
        stack: Stack, api: Api, bridge_settings: BridgeSettings, tmp_path: Path) -> None:
    # Given 150 queued commands of one device and a bridge process with its persistent session
    device_id, token = api.create_device()
    commands: list[Command] = container().command_service.create_many(
        api.tenant_id, [(device_id, CreateCommand(command_type="ping"))] * 150, created_by="test")
    total = len(commands)
    log = tmp_path / "bridge.log"
    children = [_bridge_process(bridge_settings, log)]
    device = stack.device_peer(api.tenant_id, device_id, token)
    topic = f"tenant/{api.tenant_id}/device/{device_id}/commands/ack"

    def ack(command: Command) -> None:
        device.publish(topic, {"command_id": command.command_id, "status": "ok", "details": {"message": "pong"}})

    try:
        # (until the bridge has subscribed once, a message could pass it by: ACK the first until it lands)
        assert wait_until(lambda: ack(commands[0]) or _queued(api.tenant_id, device_id) < total, 30, 0.3)
        # When the device keeps ACKing while the bridge is SIGKILLed mid-stream and restarted
        rest = commands[1:]
        acking = threading.Thread(target=lambda: [(ack(c), time.sleep(0.01)) for c in rest])
        acking.start()
        assert wait_until(lambda: _queued(api.tenant_id, device_id) < total - 20, 30, 0.05)
        proc = children[0].proc
        assert proc is not None
        proc.kill()
        proc.wait(5)
        left_at_kill = _queued(api.tenant_id, device_id)
        children.append(_bridge_process(bridge_settings, log))
        acking.join(60)
        # Then every ACK was applied: nothing is left queued
        assert wait_until(lambda: _queued(api.tenant_id, device_id) == 0, 90, 0.5), log.read_text()[-2000:]
        assert left_at_kill > 0, "the kill came after everything was done"
        assert all(_status(api.tenant_id, device_id, c.command_id) is CommandStatus.DELIVERED for c in commands[:5])
    finally:
        for child in children:
            child.stop()
        device.close()
