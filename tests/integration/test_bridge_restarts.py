"""The bridge loses nothing that reached the broker: a SIGKILLed bridge, a broker restart.

QoS 1, a persistent session, and a PUBACK only after the forward.
"""
from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from mqtt_bridge.config import BridgeSettings
from mqtt_bridge.invokers import InProcessInvoker
from tests.conftest import Stack
from tests.integration.bridge_support import (
    CountingInvoker,
    bridge_settings,
    journal_bridge,
    journal_seqs,
    seqs,
    start_bridge,
    status_topic,
    wait_until,
    warm_up,
)
from tests.support import Api

__all__ = ["bridge_settings"]  # a fixture, used by name


def test_bridge_killed_mid_stream_and_restarted_loses_nothing(
        stack: Stack, api: Api, bridge_settings: Callable[..., BridgeSettings], tmp_path: Path) -> None:
    device_id, token = api.create_device("br-kill")
    settings = bridge_settings()
    journal, log = tmp_path / "journal.jsonl", tmp_path / "bridge.log"
    children = [journal_bridge(stack, settings, journal, log)]
    device = stack.device_peer(api.tenant_id, device_id, token)
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


def test_messages_queued_for_a_stopped_bridge_survive_a_broker_restart(
        stack: Stack, api: Api, bridge_settings: Callable[..., BridgeSettings]) -> None:
    # Given a bridge that subscribed once and then stopped (its session stays on the broker)
    device_id, token = api.create_device("br-brk")
    counting = CountingInvoker(InProcessInvoker())
    start_bridge(bridge_settings(), counting).shutdown()
    device = stack.device_peer(api.tenant_id, device_id, token)
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
    device = stack.device_peer(api.tenant_id, device_id, token)
    for i in range(20):
        device.publish(status_topic(api, device_id), {"seq": i})
    device.close()
    # When the broker restarts under it and the device sends more once it is back
    stack.broker.restart(downtime_s=0.5)
    device = stack.device_peer(api.tenant_id, device_id, token)
    for i in range(20, 40):
        device.publish(status_topic(api, device_id), {"seq": i})
    # Then the bridge reconnected by itself and has both batches
    wait_until(lambda: set(seqs(counting.done)) == set(range(40)), timeout=30, what="both batches")
    assert bridge.connected.is_set()
    device.close()
    assert bridge.shutdown()
