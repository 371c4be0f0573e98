"""Helpers shared by the integration tests: an API client, MQTT clients, a clock."""
from __future__ import annotations

import json
import os
import queue
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, NoReturn

import paho.mqtt.client as mqtt
import pytest
from chalice.test import Client

from chalicelib.container import container
from chalicelib.core.auth.operator import issue_local_token


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]


class Api:
    """The Chalice app in-process, with an operator token for one tenant."""

    def __init__(self, client: Client, tenant_id: str) -> None:
        self.client = client
        self.tenant_id = tenant_id
        self.token = issue_local_token(container().settings, tenant_id)

    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
             headers: dict[str, str] | None = None, auth: bool = True) -> ApiResponse:
        h = {"Content-Type": "application/json"}
        if auth:
            h["Authorization"] = f"Bearer {self.token}"
        h.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        resp = getattr(self.client.http, method.lower())(path, headers=h, body=data)
        try:
            parsed = json.loads(resp.body) if resp.body else None
        except ValueError:
            parsed = resp.body
        return ApiResponse(resp.status_code, parsed, dict(resp.headers))

    def get(self, path: str, **kw: Any) -> ApiResponse:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> ApiResponse:
        return self.call("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> ApiResponse:
        return self.call("PUT", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> ApiResponse:
        return self.call("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> ApiResponse:
        return self.call("DELETE", path, **kw)

    def device_call(self, method: str, path: str, token: str, body: Any = None) -> ApiResponse:
        """A device route with an X-Provision-Token instead of a JWT."""
        return self.call(method, path, body, headers={"X-Provision-Token": token}, auth=False)

    def create_device(self, device_id: str | None = None, **fields: Any) -> tuple[str, str]:
        """Create a device; returns (device_id, provision_token)."""
        body: dict[str, Any] = dict(fields)
        if device_id:
            body["device_id"] = device_id
        resp = self.post("/customer/devices", body)
        assert resp.status == 201, resp.body
        return resp.body["device_id"], resp.body["provision_token"]


@dataclass
class MqttPeer:
    """A paho client that records everything it receives."""

    client: mqtt.Client
    messages: queue.Queue = field(default_factory=queue.Queue)
    connected: threading.Event = field(default_factory=threading.Event)
    disconnected: threading.Event = field(default_factory=threading.Event)
    connect_rc: list[Any] = field(default_factory=list)
    connack: list[Any] = field(default_factory=list)  # (flags, properties) of each CONNACK, where recorded

    def subscribe(self, topic: str, qos: int = 1) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *a, **k: done.set()
        self.client.subscribe(topic, qos)
        assert done.wait(5), f"no SUBACK for {topic}"

    def publish(self, topic: str, payload: Any, qos: int = 1, retain: bool = False) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        info = self.client.publish(topic, data, qos=qos, retain=retain)
        info.wait_for_publish(5)

    def expect(self, timeout: float = 5.0) -> tuple[str, Any, bool]:
        """Next message as (topic, decoded JSON, retained)."""
        topic, payload, retained = self.messages.get(timeout=timeout)
        return topic, json.loads(payload) if payload else None, retained

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def mqtt_peer(host: str, port: int, username: str, password: str, client_id: str = "",
              clean: bool = True, wait: bool = True) -> MqttPeer:
    """Connect a recording client (MQTT 3.1.1)."""
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                         clean_session=clean, protocol=mqtt.MQTTv311)
    client.username_pw_set(username, password)
    peer = MqttPeer(client)

    def on_connect(c: Any, u: Any, flags: Any, rc: Any, props: Any) -> None:
        peer.connect_rc.append(rc)
        if not rc.is_failure:
            peer.connected.set()

    client.on_connect = on_connect
    client.on_message = lambda c, u, m: peer.messages.put((m.topic, m.payload, bool(m.retain)))
    client.connect(host, port, keepalive=30)
    client.loop_start()
    if wait:
        assert peer.connected.wait(5), f"{username} could not connect: {peer.connect_rc}"
    return peer


class Clock:
    """A controllable clock for services that take `clock=`."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now


def missing(what: str) -> NoReturn:
    """Skip a test whose environment truly lacks `what`, but fail under CI=true, where nothing may be missing."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is missing (CI=true: a missing piece fails the run instead of skipping)")
    pytest.skip(f"{what} is missing")


def restore_environ(saved: dict[str, str | None]) -> None:
    """Put back environment variables as `saved` ({name: value, or None where it was unset})."""
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
