"""The MQTT bridge against the real Mosquitto and the emulated DynamoDB.

Device messages reach the database, bad ones are dropped without blocking anything, and
transient failures are retried in order (restarts: test_bridge_restarts.py).
"""
from __future__ import annotations

from collections.abc import Callable

from mqtt_bridge.config import BridgeSettings
from mqtt_bridge.invokers import InProcessInvoker
from tests.conftest import Stack
from tests.integration.bridge_support import (
    CountingInvoker,
    assert_nothing_redelivered,
    bridge_settings,
    last_seen,
    seqs,
    start_bridge,
    status_topic,
    wait_until,
)
from tests.support import Api

__all__ = ["bridge_settings"]  # a fixture, used by name


def test_status_message_reaches_the_database(stack: Stack, api: Api,
                                             bridge_settings: Callable[..., BridgeSettings]) -> None:
    # Given a device never seen and a running bridge
    device_id, token = api.create_device("br-status")
    assert last_seen(api, device_id) is None
    bridge = start_bridge(bridge_settings(), InProcessInvoker())
    device = stack.device_peer(api.tenant_id, device_id, token)
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
    device = stack.device_peer(api.tenant_id, device_id, token)
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
    device = stack.device_peer(api.tenant_id, device_id, token)
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


def test_transient_failures_are_retried_in_order_until_the_invoker_recovers(
        stack: Stack, api: Api, bridge_settings: Callable[..., BridgeSettings]) -> None:
    # Given an invoker that fails three times before the database "comes back"
    device_id, token = api.create_device("br-flaky")
    counting = CountingInvoker(InProcessInvoker(), fail_first=3)
    bridge = start_bridge(bridge_settings(), counting)
    device = stack.device_peer(api.tenant_id, device_id, token)
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
