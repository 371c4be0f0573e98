"""Simulated devices for the local stack: paho clients that use their own credentials.

A device's behaviour is assembled from small installers (infra/local/behaviours/), one
per feature, each registering handlers for cloud-to-device topics.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
import requests

from chalicelib.core.identity import mqtt_username
from chalicelib.core.topics import COMMANDS_REQUEST_SUFFIX, device_topic

log = logging.getLogger(__name__)

MessageHandler = Callable[["SimulatedDevice", str, dict[str, Any]], None]


@dataclass
class DeviceIdentity:
    """What a simulated device knows about itself."""

    tenant_id: str
    device_id: str
    provision_token: str
    options: dict[str, Any] = field(default_factory=dict)
    # (CA file, certificate file, key file): log in on the mutual-TLS listener with a client certificate.
    certificate: tuple[str, str, str] | None = None


class SimulatedDevice:
    """One device: MQTT with its token, HTTPS with X-Provision-Token, a heartbeat."""

    def __init__(self, identity: DeviceIdentity, mqtt_host: str, mqtt_port: int, api_url: str,
                 heartbeat_s: float = 30.0) -> None:
        self.identity = identity
        self.api_url = api_url.rstrip("/")
        self._host, self._port = mqtt_host, mqtt_port
        self._heartbeat_s = heartbeat_s
        self._handlers: list[tuple[str, MessageHandler]] = []
        self._on_connected: list[Callable[[], None]] = []
        self._stop = threading.Event()
        self._session = requests.Session()
        self._session.headers["X-Provision-Token"] = identity.provision_token
        self.connected = threading.Event()
        username = mqtt_username(identity.tenant_id, identity.device_id)
        # The broker forces the client id to the username; asking for it keeps logs readable.
        self.client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=username,
            # MQTT 5, to read the correlation data the cloud puts on a command and echo it back.
            protocol=mqtt.MQTTv5,
        )
        # The correlation id of the message being handled (set by the network thread before each handler).
        self.correlation_id: str | None = None
        if identity.certificate:
            ca_file, cert_file, key_file = identity.certificate
            # The broker takes the username from the certificate's CN: no password crosses the wire.
            self.client.tls_set(ca_certs=ca_file, certfile=cert_file, keyfile=key_file)
        else:
            self.client.username_pw_set(username, identity.provision_token)
        self.client.reconnect_delay_set(1, 10)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self.connected.clear()

    @property
    def device_id(self) -> str:
        return self.identity.device_id

    def topic(self, suffix: str) -> str:
        return device_topic(self.identity.tenant_id, self.identity.device_id, suffix)

    def on(self, suffix: str, handler: MessageHandler) -> None:
        """Handle messages on one cloud-to-device suffix (MQTT wildcards allowed)."""
        self.on_topic(self.topic(suffix), handler)

    def on_topic(self, topic: str, handler: MessageHandler) -> None:
        """Handle messages on a whole topic filter (e.g. AWS IoT's `$aws/things/{thing}/jobs/...`)."""
        self._handlers.append((topic, handler))

        def callback(client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
            try:
                payload = json.loads(msg.payload) if msg.payload else {}
                data = getattr(msg.properties, "CorrelationData", None)
                self.correlation_id = data.decode(errors="replace") if isinstance(data, bytes) else None
                handler(self, msg.topic, payload)
            except Exception:  # a buggy behaviour must not kill the network thread
                log.exception("%s: handler for %s failed", self.device_id, msg.topic)

        self.client.message_callback_add(topic, callback)

    def on_connected(self, callback: Callable[[], None]) -> None:
        """Run `callback` after each (re)connect, once the subscriptions are made."""
        self._on_connected.append(callback)

    def publish(self, suffix: str, payload: dict[str, Any], qos: int = 1) -> None:
        self.publish_to(self.topic(suffix), payload, qos)

    def publish_to(self, topic: str, payload: dict[str, Any], qos: int = 1) -> None:
        """Publish on a whole topic (AWS IoT's reserved topics are outside the device's own subtree)."""
        self.client.publish(topic, json.dumps(payload), qos=qos)

    def http(self, method: str, path: str, body: Any = None,
             headers: dict[str, str] | None = None) -> requests.Response:
        return self._session.request(method, f"{self.api_url}{path}", json=body, headers=headers, timeout=10)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: mqtt.ReasonCode, props: Any) -> None:
        if rc.is_failure:
            log.warning("%s: broker refused connection: %s", self.device_id, rc)
            return
        for topic, _ in self._handlers:
            client.subscribe(topic, qos=1)
        self.connected.set()
        self.publish("status", {"state": "online"})
        # Like the seed's ESP32 on wake: ask for what was queued while it was away.
        self.publish(COMMANDS_REQUEST_SUFFIX, {})
        for callback in self._on_connected:
            callback()

    def start(self) -> SimulatedDevice:
        self.client.connect_async(self._host, self._port, keepalive=30)
        self.client.loop_start()
        threading.Thread(target=self._heartbeat, name=f"hb-{self.device_id}", daemon=True).start()
        return self

    def _heartbeat(self) -> None:
        while not self._stop.wait(self._heartbeat_s):
            if self.connected.is_set():
                self.publish("status", {"state": "online"})

    def stop(self) -> None:
        self._stop.set()
        self.client.disconnect()
        self.client.loop_stop()


def build_device(identity: DeviceIdentity, mqtt_host: str, mqtt_port: int, api_url: str,
                 heartbeat_s: float = 30.0) -> SimulatedDevice:
    """A simulated device with every feature's behaviour installed."""
    from infra.local.behaviours import INSTALLERS

    device = SimulatedDevice(identity, mqtt_host, mqtt_port, api_url, heartbeat_s)
    for install in INSTALLERS:
        install(device)
    return device
