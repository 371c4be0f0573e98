"""The MQTT bridge against the real Mosquitto and the emulated DynamoDB.

Device messages reach the database, bad ones are dropped without blocking anything, and
nothing that reached the broker is lost across transient failures, a SIGKILLed bridge or
a broker restart (QoS 1, persistent session, PUBACK only after the forward).
"""
from __future__ import annotations

import base64
import json
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.local.bridge_journal import read_journal
from infra.local.processes import Child, python_module
from mqtt_bridge.bridge import Bridge
from mqtt_bridge.config import BridgeSettings
from mqtt_bridge.invokers import InProcessInvoker, InvokeError, Invoker
from tests.conftest import Stack
from tests.support import Api, MqttPeer


class CountingInvoker(Invoker):
    """Wraps the real function; fails the first `fail_first` calls; records what succeeded."""

    def __init__(self, inner: Invoker, fail_first: int = 0) -> None:
        self.inner = inner
        self.fail_first = fail_first
        self.attempts: list[bytes] = []
        self.done: list[bytes] = []
        self._lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        payload = base64.b64decode(event["payload_b64"])
        with self._lock:
            self.attempts.append(payload)
            failing = len(self.attempts) <= self.fail_first
        if failing:
            raise InvokeError("database briefly unavailable")
        result = self.inner.invoke(event)
        with self._lock:
            self.done.append(payload)
        return result


def wait_until(predicate: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def seqs(payloads: list[bytes]) -> list[Any]:
    return [json.loads(p).get("seq") for p in payloads if p.startswith(b"{")]


@pytest.fixture
def bridge_settings(stack: Stack) -> Iterator[Callable[..., BridgeSettings]]:
    """Settings for bridges of this test; their persistent session is removed afterwards."""
    client_id = f"bridge-test-{uuid.uuid4().hex[:8]}"
    user = stack.users["bridge"]

    def make(**overrides: Any) -> BridgeSettings:
        base: dict[str, Any] = dict(
            mqtt_host=stack.broker.host, mqtt_port=stack.broker.port, mqtt_username=user.username,
            mqtt_password=user.password, client_id=client_id, workers=4, retry_min_s=0.05, retry_max_s=0.3,
            reconnect_min_s=1, reconnect_max_s=2, shutdown_grace_s=5,
        )
        return BridgeSettings(**{**base, **overrides})

    yield make
    # Left alone, an offline persistent session would queue every later test's messages.
    stack.peer(user.username, user.password, client_id=client_id, clean=True).close()


def start_bridge(settings: BridgeSettings, invoker: Invoker) -> Bridge:
    bridge = Bridge(settings, invoker).start()
    assert bridge.subscribed.wait(10), "bridge did not subscribe"
    return bridge


def last_seen(api: Api, device_id: str) -> Any:
    resp = api.get(f"/customer/devices/{device_id}")
    assert resp.status == 200, resp.body
    return resp.body.get("last_seen_at")


def status_topic(api: Api, device_id: str) -> str:
    return f"tenant/{api.tenant_id}/device/{device_id}/status"


def test_status_message_reaches_the_database(stack: Stack, api: Api,
                                             bridge_settings: Callable[..., BridgeSettings]) -> None:
    # Given a device never seen and a running bridge
    device_id, token = api.create_device("br-status")
    assert last_seen(api, device_id) is None
    bridge = start_bridge(bridge_settings(), InProcessInvoker())
    device = stack.device_peer(device_id, token)
    # When the device publishes a heartbeat
    device.publish(status_topic(api, device_id), {"battery": 90})
    # Then the registry records that it was seen
    wait_until(lambda: last_seen(api, device_id) is not None, what="last_seen_at")
    wait_until(lambda: bridge.pending() == 0, what="ack")
    assert bridge.stats.forwarded >= 1
    device.close()
    assert bridge.shutdown()


def test_malformed_payload_is_acked_and_dropped_and_the_bridge_keeps_working(
        stack: Stack, api: Api, bridge_settings: Callable[..., BridgeSettings]) -> None:
    # Given a running bridge
    device_id, token = api.create_device("br-bad")
    counting = CountingInvoker(InProcessInvoker())
    bridge = start_bridge(bridge_settings(), counting)
    device = stack.device_peer(device_id, token)
    topic = status_topic(api, device_id)
    # When the device sends garbage and then a good heartbeat
    device.publish(topic, b"{not json")
    device.publish(topic, {"seq": 1})
    # Then the garbage is rejected once, the heartbeat still lands
    wait_until(lambda: last_seen(api, device_id) is not None, what="last_seen_at")
    wait_until(lambda: len(counting.done) == 2, what="both messages")
    assert bridge.stats.rejected == 1
    assert bridge.shutdown()
    # And it was acknowledged: a new bridge on the same session does not get it again
    assert_nothing_redelivered(stack, api, device, device_id, bridge_settings(), counting)
    assert counting.done.count(b"{not json") == 1
    device.close()


def test_an_oversized_payload_is_dropped_unforwarded_and_does_not_block_the_lane(
        stack: Stack, api: Api, bridge_settings: Callable[..., BridgeSettings]) -> None:
    # Given a bridge that takes payloads of at most 2 KB
    device_id, token = api.create_device("br-big")
    counting = CountingInvoker(InProcessInvoker())
    bridge = start_bridge(bridge_settings(max_payload_bytes=2048), counting)
    device = stack.device_peer(device_id, token)
    topic = status_topic(api, device_id)
    # When the device sends a 4 KB message and then a small heartbeat
    device.publish(topic, {"seq": 0, "blob": "x" * 4096})
    device.publish(topic, {"seq": 1})
    # Then only the heartbeat is forwarded; the big one never reaches the function
    wait_until(lambda: len(counting.done) == 1, what="the heartbeat")
    wait_until(lambda: bridge.pending() == 0, what="ack")
    assert seqs(counting.attempts) == [1]
    assert bridge.shutdown()
    # And it was acknowledged to the broker: a new bridge on the session does not get it again
    assert_nothing_redelivered(stack, api, device, device_id, bridge_settings(max_payload_bytes=2048), counting)
    device.close()


def assert_nothing_redelivered(stack: Stack, api: Api, device: MqttPeer, device_id: str,
                               settings: BridgeSettings, counting: CountingInvoker) -> None:
    """Restart on the same session and send a marker: what arrives before it was redelivered."""
    before = len(counting.done)
    bridge = start_bridge(settings, counting)
    device.publish(status_topic(api, device_id), {"seq": "marker"})
    wait_until(lambda: b'{"seq": "marker"}' in counting.done, what="marker")
    assert counting.done[before:] == [b'{"seq": "marker"}']
    assert bridge.shutdown()


def test_transient_failures_are_retried_in_order_until_the_invoker_recovers(
        stack: Stack, api: Api, bridge_settings: Callable[..., BridgeSettings]) -> None:
    # Given an invoker that fails three times before the database "comes back"
    device_id, token = api.create_device("br-flaky")
    counting = CountingInvoker(InProcessInvoker(), fail_first=3)
    bridge = start_bridge(bridge_settings(), counting)
    device = stack.device_peer(device_id, token)
    # When the device sends two heartbeats
    device.publish(status_topic(api, device_id), {"seq": 1})
    device.publish(status_topic(api, device_id), {"seq": 2})
    # Then both are processed, in order, once the invoker recovers
    wait_until(lambda: len(counting.done) == 2, what="both messages")
    assert seqs(counting.done) == [1, 2]
    assert seqs(counting.attempts)[:4] == [1, 1, 1, 1]
    assert bridge.stats.retries == 3
    assert last_seen(api, device_id) is not None
    assert bridge.shutdown()
    # And neither is delivered again: each was acked after it succeeded
    assert_nothing_redelivered(stack, api, device, device_id, bridge_settings(), counting)
    device.close()


def journal_bridge(stack: Stack, settings: BridgeSettings, journal: Path, log: Path) -> Child:
    """`python -m infra.local.bridge_journal` in its own process, configured by environment."""
    env = {
        "BRIDGE_MQTT_HOST": settings.mqtt_host, "BRIDGE_MQTT_PORT": str(settings.mqtt_port),
        "BRIDGE_MQTT_USERNAME": settings.mqtt_username, "BRIDGE_MQTT_PASSWORD": settings.mqtt_password,
        "BRIDGE_CLIENT_ID": settings.client_id, "BRIDGE_RECONNECT_MIN_S": "1", "BRIDGE_RETRY_MIN_S": "0.05",
        "BRIDGE_JOURNAL_PATH": str(journal), "PYTHONUNBUFFERED": "1",
    }
    return Child("bridge", python_module("infra.local.bridge_journal"), log, env).start()


def journal_seqs(journal: Path) -> list[Any]:
    return seqs([base64.b64decode(e["payload_b64"]) for e in read_journal(journal)])


def test_bridge_killed_mid_stream_and_restarted_loses_nothing(
        stack: Stack, api: Api, bridge_settings: Callable[..., BridgeSettings], tmp_path: Path) -> None:
    device_id, token = api.create_device("br-kill")
    settings = bridge_settings()
    journal, log = tmp_path / "journal.jsonl", tmp_path / "bridge.log"
    children = [journal_bridge(stack, settings, journal, log)]
    device = stack.device_peer(device_id, token)
    try:
        # Given a bridge process that has its persistent session (a warm-up message got through)
        wait_until(lambda: warm_up(api, device, device_id, journal), timeout=30, what="warm-up message")
        total = 300

        def publish_all() -> None:
            for i in range(total):
                device.publish(status_topic(api, device_id), {"seq": i})
                # A burst first, so the bridge holds a backlog when it dies, then a steady
                # stream that goes on across the kill and the restart.
                if i >= total // 2:
                    time.sleep(0.01)

        publisher = threading.Thread(target=publish_all)
        publisher.start()
        # When the bridge is SIGKILLed mid-stream and restarted while the device keeps going
        wait_until(lambda: len(journal_seqs(journal)) > 40, timeout=30, what="some progress")
        proc = children[0].proc
        assert proc is not None
        proc.kill()
        proc.wait(5)
        assert publisher.is_alive(), "the device should still be publishing when the bridge dies"
        seen_at_kill = set(journal_seqs(journal))
        time.sleep(0.5)
        children.append(journal_bridge(stack, settings, journal, log))
        publisher.join(60)
        # Then every message is processed at least once
        wait_until(lambda: set(range(total)) <= set(journal_seqs(journal)), timeout=90, what="all messages")
        assert set(journal_seqs(journal)) - {"warm-up"} == set(range(total))
        assert len(seen_at_kill & set(range(total))) < total, "the kill came after everything was done"
        # And SIGTERM stops the bridge cleanly with exit status 0
        proc = children[1].proc
        assert proc is not None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        for child in children:
            child.stop()
        device.close()


def warm_up(api: Api, device: MqttPeer, device_id: str, journal: Path) -> bool:
    """Until the bridge subscribed, a message can pass it by: send one until it arrives."""
    if "warm-up" in journal_seqs(journal):
        return True
    device.publish(status_topic(api, device_id), {"seq": "warm-up"})
    time.sleep(0.3)
    return "warm-up" in journal_seqs(journal)


def test_messages_queued_for_a_stopped_bridge_survive_a_broker_restart(
        stack: Stack, api: Api, bridge_settings: Callable[..., BridgeSettings]) -> None:
    # Given a bridge that subscribed once and then stopped (its session stays on the broker)
    device_id, token = api.create_device("br-brk")
    counting = CountingInvoker(InProcessInvoker())
    start_bridge(bridge_settings(), counting).shutdown()
    device = stack.device_peer(device_id, token)
    for i in range(50):
        device.publish(status_topic(api, device_id), {"seq": i})
    device.close()
    # When the broker restarts while the bridge is away
    stack.broker.restart()
    # Then the bridge's session still holds every message
    bridge = start_bridge(bridge_settings(), counting)
    wait_until(lambda: set(seqs(counting.done)) == set(range(50)), timeout=30, what="queued messages")
    assert bridge.shutdown()


def test_bridge_reconnects_after_a_broker_restart_and_loses_nothing(
        stack: Stack, api: Api, bridge_settings: Callable[..., BridgeSettings]) -> None:
    # Given a connected bridge that processed a first batch
    device_id, token = api.create_device("br-recon")
    counting = CountingInvoker(InProcessInvoker())
    bridge = start_bridge(bridge_settings(), counting)
    device = stack.device_peer(device_id, token)
    for i in range(20):
        device.publish(status_topic(api, device_id), {"seq": i})
    device.close()
    # When the broker restarts under it and the device sends more once it is back
    stack.broker.restart(downtime_s=0.5)
    device = stack.device_peer(device_id, token)
    for i in range(20, 40):
        device.publish(status_topic(api, device_id), {"seq": i})
    # Then the bridge reconnected by itself and has both batches
    wait_until(lambda: set(seqs(counting.done)) == set(range(40)), timeout=30, what="both batches")
    assert bridge.connected.is_set()
    device.close()
    assert bridge.shutdown()
