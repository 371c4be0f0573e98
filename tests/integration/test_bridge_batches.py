"""The bridge's batches against the real Mosquitto and the real device-message function.

Many messages go in one invoke, the function answers per message, a bad one is dropped
without holding its batch, and every message is acknowledged only once it was taken.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from mqtt_bridge.config import BridgeSettings
from mqtt_bridge.invokers import BatchResult, InProcessInvoker
from mqtt_bridge.socket_reader import ReadAheadSocket
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


class BatchCounting(CountingInvoker):
    """Also records the size of each batch invoke and what the function took from it."""

    def __init__(self, inner: InProcessInvoker) -> None:
        super().__init__(inner)
        self.sizes: list[int] = []

    def invoke_batch(self, events: list[dict[str, Any]]) -> BatchResult:
        result = self.inner.invoke_batch(events)
        with self._lock:
            self.sizes.append(len(events))
            self.done.extend(base64.b64decode(e["payload_b64"]) for i, e in enumerate(events)
                             if i not in result.failed)
        return result


def test_a_burst_goes_in_batches_and_a_bad_message_does_not_hold_its_batch(
        stack: Stack, api: Api, bridge_settings: Callable[..., BridgeSettings]) -> None:
    # Given a bridge that batches (one lane, so the device's burst shares its batches)
    device_id, token = api.create_device("br-batch")
    counting = BatchCounting(InProcessInvoker())
    settings = bridge_settings(batch_max=50, batch_wait_ms=300, workers=1)
    bridge = start_bridge(settings, counting)
    device = stack.device_peer(api.tenant_id, device_id, token)
    topic = status_topic(api, device_id)
    # When the device sends garbage among a burst of heartbeats
    device.publish(topic, {"seq": 0})
    device.publish(topic, b"{not json")
    for i in range(1, 20):
        device.publish(topic, {"seq": i})
    # Then every message was taken once, in order, in fewer invokes than messages
    wait_until(lambda: len(counting.done) == 21, what="the burst")
    wait_until(lambda: bridge.pending() == 0, what="acks")
    assert seqs([p for p in counting.done if p != b"{not json"]) == list(range(20))
    assert counting.done.count(b"{not json") == 1
    assert max(counting.sizes) > 1
    assert (bridge.stats.rejected, bridge.stats.forwarded) == (1, 20)
    assert last_seen(api, device_id) is not None
    assert bridge.shutdown()
    # And all of it was acknowledged: a new bridge on the same session gets none of it again
    assert_nothing_redelivered(stack, api, device, device_id, settings, counting)
    device.close()


def test_messages_bigger_than_a_read_arrive_whole_and_in_order(
        stack: Stack, api: Api, bridge_settings: Callable[..., BridgeSettings]) -> None:
    # Given a bridge reading its connection ahead in 64 KiB chunks
    device_id, token = api.create_device("br-readahead")
    counting = BatchCounting(InProcessInvoker())
    settings = bridge_settings(batch_max=25, workers=1)
    bridge = start_bridge(settings, counting)
    assert isinstance(bridge._client.socket(), ReadAheadSocket)
    device = stack.device_peer(api.tenant_id, device_id, token)
    topic = status_topic(api, device_id)
    # When a burst of 2 KiB messages (about 600 KiB: packets straddle the reads) and small ones comes
    sent = [json.dumps({"seq": i, "note": "x" * (2048 if i % 2 else 0)}).encode() for i in range(300)]
    for info in [device.client.publish(topic, payload, qos=1) for payload in sent]:  # not one at a time
        info.wait_for_publish(10)
    # Then each arrived once, byte for byte, in order, and all was acknowledged
    wait_until(lambda: len(counting.done) == len(sent), what="the burst")
    wait_until(lambda: bridge.pending() == 0, what="acks")
    assert counting.done == sent
    assert bridge.shutdown()
    assert_nothing_redelivered(stack, api, device, device_id, settings, counting)
    device.close()
