"""Two bridges share the load through an MQTT shared subscription and lose nothing when one dies.

Real Mosquitto, two bridge processes with journals (what the function took), one SIGKILLed
mid-burst and started again on its own session, which holds what it had not acknowledged.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

from mqtt_bridge.config import BridgeSettings
from tests.conftest import Stack
from tests.integration.bridge_support import (
    bridge_settings,
    journal_bridge,
    journal_seqs,
    last_seen,
    status_topic,
    wait_until,
    warm_up,
)
from tests.support import Api

__all__ = ["bridge_settings"]  # a fixture, used by name

DEVICES = 4
PER_DEVICE = 250


def test_one_of_two_shared_bridges_killed_mid_burst_loses_nothing(
        stack: Stack, api: Api, bridge_settings: Callable[..., BridgeSettings], tmp_path: Path) -> None:
    group = f"g{uuid.uuid4().hex[:6]}"
    first = bridge_settings(share_group=group)
    second = bridge_settings(share_group=group, client_id=f"{first.client_id}-b")
    journals = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    children = [journal_bridge(stack, first, journals[0], tmp_path / "a.log"),
                journal_bridge(stack, second, journals[1], tmp_path / "b.log")]
    devices = [api.create_device(f"br-share-{i}") for i in range(DEVICES)]
    peers = [stack.device_peer(api.tenant_id, d, tok) for d, tok in devices]

    def seen() -> list[object]:
        return journal_seqs(journals[0]) + journal_seqs(journals[1])

    try:
        # Given two bridges in one share group, both subscribed (a warm-up got through each)
        for journal in journals:
            wait_until(partial(warm_up, api, peers[0], devices[0][0], journal), timeout=30, what="warm-up")
        # When the devices send a burst and the first bridge is SIGKILLed in the middle of it
        expected = {f"{d}:{i}" for d, _ in devices for i in range(PER_DEVICE)}

        def publish(peer_index: int) -> None:
            device_id = devices[peer_index][0]
            for i in range(PER_DEVICE):
                peers[peer_index].publish(status_topic(api, device_id), {"seq": f"{device_id}:{i}"})
                # A burst first, so the bridges hold a backlog at the kill, then a stream across it.
                if i >= PER_DEVICE // 2:
                    time.sleep(0.01)

        publishers = [threading.Thread(target=publish, args=(i,)) for i in range(DEVICES)]
        for p in publishers:
            p.start()
        wait_until(lambda: len(set(journal_seqs(journals[0])) & expected) > 50, timeout=60, what="progress")
        proc = children[0].proc
        assert proc is not None
        proc.kill()
        proc.wait(5)
        taken_at_kill = set(seen())
        # Shared, not copied: until the kill no message went through both bridges
        assert not set(journal_seqs(journals[0])) & set(journal_seqs(journals[1])) & expected
        # The survivor keeps taking the group's messages while the first one is away
        taken_by_second = len(set(journal_seqs(journals[1])) & expected)
        wait_until(lambda: len(set(journal_seqs(journals[1])) & expected) > taken_by_second, timeout=30,
                   what="the surviving bridge's progress")
        time.sleep(0.2)
        children.append(journal_bridge(stack, first, journals[0], tmp_path / "a.log"))
        for p in publishers:
            p.join(120)
        # Then every message reached the function, through one bridge or the other
        wait_until(lambda: expected <= set(seen()), timeout=120, what="every message")
        assert set(seen()) - {"warm-up"} == expected
        assert len(taken_at_kill & expected) < len(expected), "the kill came after everything was done"
        # And both bridges carried part of the load
        assert set(journal_seqs(journals[0])) & expected and set(journal_seqs(journals[1])) & expected
        assert all(last_seen(api, d) is not None for d, _ in devices)
    finally:
        for child in children:
            child.stop()
        for peer in peers:
            peer.close()
        stack.peer(first.mqtt_username, first.mqtt_password, client_id=second.client_id, clean=True).close()
