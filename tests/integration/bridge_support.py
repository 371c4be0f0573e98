"""What the bridge tests share: a counting invoker, bridges on a private session, journals."""
from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    client_id = f"fleet-bridge-test-{uuid.uuid4().hex[:8]}"
    user = stack.users["bridge"]

    def make(**overrides: Any) -> BridgeSettings:
        base: dict[str, Any] = dict(
            mqtt_host=stack.broker.host, mqtt_port=stack.broker.service_port,
            mqtt_username=user.username, mqtt_password=user.password,
            client_id=client_id, workers=4, retry_min_s=0.05, retry_max_s=0.3,
            reconnect_min_s=1, reconnect_max_s=2, shutdown_grace_s=5,
            # One message per invoke, as these tests count calls; test_bridge_batches.py batches.
            batch_max=1,
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


def assert_nothing_redelivered(stack: Stack, api: Api, device: MqttPeer, device_id: str,
                               settings: BridgeSettings, counting: CountingInvoker) -> None:
    """Restart on the same session and send a marker: what arrives before it was redelivered."""
    before = len(counting.done)
    bridge = start_bridge(settings, counting)
    device.publish(status_topic(api, device_id), {"seq": "marker"})
    wait_until(lambda: b'{"seq": "marker"}' in counting.done, what="marker")
    assert counting.done[before:] == [b'{"seq": "marker"}']
    assert bridge.shutdown()


def journal_bridge(stack: Stack, settings: BridgeSettings, journal: Path, log: Path) -> Child:
    """`python -m infra.local.bridge_journal` in its own process, configured by environment."""
    env = {
        "BRIDGE_MQTT_HOST": settings.mqtt_host, "BRIDGE_MQTT_PORT": str(settings.mqtt_port),
        "BRIDGE_MQTT_USERNAME": settings.mqtt_username, "BRIDGE_MQTT_PASSWORD": settings.mqtt_password,
        "BRIDGE_CLIENT_ID": settings.client_id, "BRIDGE_RECONNECT_MIN_S": "1", "BRIDGE_RETRY_MIN_S": "0.05",
        "BRIDGE_JOURNAL_PATH": str(journal), "PYTHONUNBUFFERED": "1",
    }
    if settings.share_group:
        env["BRIDGE_SHARE_GROUP"] = settings.share_group
    return Child("bridge", python_module("infra.local.bridge_journal"), log, env).start()


def journal_seqs(journal: Path) -> list[Any]:
    return seqs([base64.b64decode(e["payload_b64"]) for e in read_journal(journal)])


def warm_up(api: Api, device: MqttPeer, device_id: str, journal: Path) -> bool:
    """Until the bridge subscribed, a message can pass it by: send one until it arrives."""
    if "warm-up" in journal_seqs(journal):
        return True
    device.publish(status_topic(api, device_id), {"seq": "warm-up"})
    time.sleep(0.3)
    return "warm-up" in journal_seqs(journal)


@contextmanager
def in_process_bridge(stack: Stack, label: str) -> Iterator[Bridge]:
    """A running bridge on its own persistent session, forwarding into the app in this process."""
    user = stack.users["bridge"]
    client_id = f"fleet-bridge-{label}-{uuid.uuid4().hex[:8]}"
    settings = BridgeSettings(mqtt_host=stack.broker.host, mqtt_port=stack.broker.service_port,
                              mqtt_username=user.username, mqtt_password=user.password,
                              client_id=client_id, workers=4, retry_min_s=0.05,
                              retry_max_s=0.3, reconnect_min_s=1, reconnect_max_s=2, shutdown_grace_s=5)
    running = Bridge(settings, InProcessInvoker()).start()
    assert running.subscribed.wait(10), "bridge did not subscribe"
    try:
        yield running
    finally:
        running.shutdown()
        # An offline persistent session would queue every later test's messages.
        stack.peer(user.username, user.password, client_id=client_id, clean=True).close()
