"""Helpers of the command tests: sending commands, firing the schedules, forwarding ACKs."""
from __future__ import annotations

import base64
import json
import queue
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from chalice.test import Client

from chalicelib.commands.schedule import expire_commands, retry_commands
from infra.local.scheduler import scheduled_event
from tests.support import Api, MqttPeer


def send(api: Api, device_id: str, command_type: str = "ping", params: dict[str, Any] | None = None,
         **extra: Any) -> dict[str, Any]:
    """POST a command and return the 201 body."""
    resp = api.post(f"/customer/devices/{device_id}/commands",
                    {"command_type": command_type, "command_params": params or {}, **extra})
    assert resp.status == 201, resp.body
    return dict(resp.body)


def command(api: Api, device_id: str, command_id: str) -> dict[str, Any]:
    resp = api.get(f"/customer/devices/{device_id}/commands/{command_id}")
    assert resp.status == 200, resp.body
    return dict(resp.body)


def ack_http(api: Api, token: str, command_id: str, status: str = "ok", details: dict[str, Any] | None = None) -> Any:
    return api.device_call("POST", f"/device/v1/commands/{command_id}/ack", token,
                           {"status": status, "details": details or {}})


def minutes_from_now(minutes: float) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)


def run_expiry(now: datetime) -> dict[str, int]:
    """Fire the per-minute expiry as EventBridge would, at `now`."""
    return dict(expire_commands(scheduled_event(now), None))


def run_retry(now: datetime) -> dict[str, int]:
    """Fire the per-minute publish retry at `now`."""
    return dict(retry_commands(scheduled_event(now), None))


def wait_until(predicate: Callable[[], bool], timeout: float = 15.0, interval: float = 0.1) -> bool:
    """Poll a condition (for reconnects, which have no event to wait on)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def drain(peer: MqttPeer, quiet_s: float = 0.5) -> list[tuple[str, Any]]:
    """Everything the peer receives until it has been quiet for `quiet_s`."""
    got: list[tuple[str, Any]] = []
    while True:
        try:
            topic, body, _ = peer.expect(timeout=quiet_s)
        except queue.Empty:
            return got
        got.append((topic, body))


def forward_device_messages(client: Client, peer: MqttPeer, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """Hand `count` messages a watcher received to the device-message function, as the bridge does."""
    outcomes = []
    for _ in range(count):
        topic, payload, _ = peer.messages.get(timeout=timeout)
        event = {"topic": topic, "payload_b64": base64.b64encode(payload).decode()}
        outcomes.append(client.lambda_.invoke("device_message", event).payload)
    return outcomes


def encoded(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()
