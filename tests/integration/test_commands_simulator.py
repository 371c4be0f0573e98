"""The local stack's simulated devices answer commands: over MQTT, or over HTTP when told to."""
from __future__ import annotations

from chalice.test import Client

from chalicelib.commands.models import CommandRef
from chalicelib.commands.schemas import CommandStatus
from chalicelib.container import container
from infra.local.simulator import DeviceIdentity, SimulatedDevice, build_device
from tests.commands_support import command, forward_device_messages, send, wait_until
from tests.conftest import Stack
from tests.support import Api


def _device(stack: Stack, api: Api, api_url: str, **options: object) -> SimulatedDevice:
    device_id, token = api.create_device()
    stack.sync.sync_once()
    identity = DeviceIdentity(api.tenant_id, device_id, token, dict(options))
    device = build_device(identity, stack.broker.host, stack.broker.port, api_url, heartbeat_s=3600).start()
    assert device.connected.wait(10), "simulated device did not connect"
    return device


def test_simulated_device_acks_a_ping_with_pong_over_mqtt(stack: Stack, api: Api, api_url: str,
                                                          chalice_client: Client) -> None:
    # Given a simulated device and a watcher standing in for the bridge
    acks = stack.observer()
    acks.subscribe(f"tenant/{api.tenant_id}/device/+/commands/ack")
    device = _device(stack, api, api_url)
    # When the operator pings it
    created = send(api, device.device_id, "ping")
    # Then the device ACKs over MQTT with pong, and the command is delivered
    [outcome] = forward_device_messages(chalice_client, acks, 1, timeout=10)
    assert outcome["accepted"] is True, outcome
    after = command(api, device.device_id, created["command_id"])
    assert after["status"] == "delivered"
    assert after["ack_details"] == {"status": "ok", "details": {"message": "pong"}}
    device.stop()
    acks.close()


def test_simulated_device_with_ack_over_http_acks_through_the_api(stack: Stack, api: Api, api_url: str) -> None:
    # Given a simulated device told to ACK over HTTP
    device = _device(stack, api, api_url, ack_over_http=True)
    # When the operator sends it a command
    created = send(api, device.device_id, "reboot", {"delay_s": 1})
    # Then the command becomes delivered without any MQTT ACK being forwarded (read from the
    # table: the in-process app must not serve this thread while the HTTP server serves the device)
    ref = CommandRef(api.tenant_id, device.device_id, created["command_id"])
    commands = container().command_repository
    assert wait_until(lambda: getattr(commands.get(ref), "status", None) is CommandStatus.DELIVERED, 10)
    assert command(api, device.device_id, created["command_id"])["ack_details"]["details"] == {
        "message": "reboot done"}
    device.stop()
