"""The AWS IoT Device SDK v2 for Python, connected to the local broker as a device."""
from __future__ import annotations

import queue
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from awscrt import mqtt, mqtt5, mqtt_request_response

from chalicelib.core.identity import mqtt_username
from tests.conftest import Stack
from tests.support import Api

QOS = mqtt.QoS.AT_LEAST_ONCE


def sdk_connection(stack: Stack, thing: str, password: str) -> mqtt.Connection:
    """What the SDK's builders make, minus TLS: plain TCP, username/password, metrics off.

    `disable_metrics=True` (the builders' `enable_metrics_collection=False`) keeps the SDK
    from appending `?SDK=...` to the username, which password authentication would refuse.
    """
    connection = mqtt.Connection(client=mqtt.Client(None, None), host_name=stack.broker.host,
                                 port=stack.broker.port, client_id=thing, username=thing, password=password,
                                 clean_session=True, keep_alive_secs=30, disable_metrics=True)
    connection.connect().result(10)
    return connection


class Inbox:
    """Collects what SDK callbacks receive, one queue per name."""

    def __init__(self) -> None:
        self._queues: dict[str, queue.Queue[Any]] = {}

    def callback(self, name: str) -> Any:
        q = self._queues.setdefault(name, queue.Queue())
        return q.put

    def next(self, name: str, timeout: float = 10.0) -> Any:
        try:
            return self._queues.setdefault(name, queue.Queue()).get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"nothing on {name} within {timeout}s") from None

    def empty(self, name: str) -> bool:
        return self._queues.setdefault(name, queue.Queue()).empty()


@pytest.fixture(scope="module")
def aws_bridge(stack: Stack) -> Iterator[Any]:
    """A bridge on its own persistent session, forwarding into the app in this process."""
    from mqtt_bridge.bridge import Bridge
    from mqtt_bridge.config import BridgeSettings
    from mqtt_bridge.invokers import InProcessInvoker

    user = stack.users["bridge"]
    client_id = f"fleet-bridge-aws-{uuid.uuid4().hex[:8]}"
    settings = BridgeSettings(mqtt_host=stack.broker.host, mqtt_port=stack.broker.service_port,
                              mqtt_username=user.username, mqtt_password=user.password, client_id=client_id,
                              workers=4, retry_min_s=0.05, retry_max_s=0.3, reconnect_min_s=1, reconnect_max_s=2,
                              shutdown_grace_s=5)
    running = Bridge(settings, InProcessInvoker()).start()
    assert running.subscribed.wait(10), "bridge did not subscribe"
    yield running
    running.shutdown()
    stack.peer(user.username, user.password, client_id=client_id, clean=True).close()


def sdk_mqtt5_client(stack: Stack, thing: str, password: str) -> mqtt5.Client:
    """The MQTT 5 client the SDK's current samples build, minus TLS (plain TCP, username/password)."""
    connected: Future[bool] = Future()
    options = mqtt5.ClientOptions(
        host_name=stack.broker.host, port=stack.broker.port,
        connect_options=mqtt5.ConnectPacket(client_id=thing, username=thing, password=password,
                                            keep_alive_interval_sec=30),
        session_behavior=mqtt5.ClientSessionBehaviorType.CLEAN, disable_metrics=True,
        on_lifecycle_event_connection_success_fn=lambda event: connected.done() or connected.set_result(True),
        on_lifecycle_event_connection_failure_fn=lambda event: connected.done() or connected.set_exception(
            ConnectionError(str(event.exception))))
    client = mqtt5.Client(options)
    client.start()
    connected.result(10)
    return client


def sdk_device(stack: Stack, api: Api, name: str) -> tuple[str, str, mqtt5.Client]:
    """A new device of the tenant, its thing name, and the SDK's MQTT 5 client connected as it."""
    device_id, token = api.create_device(name)
    stack.sync.sync_once()
    thing = mqtt_username(api.tenant_id, device_id)
    return device_id, thing, sdk_mqtt5_client(stack, thing, token)


def request_response_options() -> mqtt_request_response.ClientOptions:
    """What the samples give the V2 service clients."""
    return mqtt_request_response.ClientOptions(max_request_response_subscriptions=2, max_streaming_subscriptions=2,
                                               operation_timeout_in_seconds=10)
