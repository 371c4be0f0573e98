"""paho-mqtt adapter: one connection per process, kept across Lambda invocations."""
from __future__ import annotations

import logging
import threading
import time

import paho.mqtt.client as mqtt

from chalicelib.messaging.base import Message, Publisher

log = logging.getLogger(__name__)


class PahoPublisher(Publisher):
    """Publishes QoS 1 through a background network loop that reconnects by itself."""

    def __init__(self, host: str, port: int, username: str = "", password: str = "",
                 client_id: str = "", timeout_s: float = 2.0) -> None:
        self._host = host
        self._port = port
        self._timeout_s = timeout_s
        self._connected = threading.Event()
        self._started = False
        self._lock = threading.Lock()
        self._client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv311,
        )
        if username:
            self._client.username_pw_set(username, password)
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        # More than the default 20 in flight, so a fan-out does not stall on acks.
        self._client.max_inflight_messages_set(200)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object,
                    reason_code: mqtt.ReasonCode, properties: object) -> None:
        if not reason_code.is_failure:
            self._connected.set()
        else:
            log.warning("broker refused the publisher: %s", reason_code)

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object,
                       reason_code: mqtt.ReasonCode, properties: object) -> None:
        self._connected.clear()

    def _ensure_started(self) -> None:
        with self._lock:
            if self._started:
                return
            self._client.connect_async(self._host, self._port, keepalive=30)
            self._client.loop_start()
            self._started = True

    def _wait_connected(self) -> bool:
        self._ensure_started()
        return self._connected.wait(self._timeout_s)

    def publish(self, message: Message) -> bool:
        return self.publish_many([message])[0]

    def publish_many(self, messages: list[Message]) -> list[bool]:
        if not messages:
            return []
        if not self._wait_connected():
            return [False] * len(messages)
        infos: list[mqtt.MQTTMessageInfo | None] = []
        for m in messages:
            try:
                infos.append(self._client.publish(m.topic, m.encoded(), qos=m.qos, retain=m.retain))
            except (ValueError, RuntimeError) as exc:
                log.warning("publish to %s failed: %s", m.topic, exc)
                infos.append(None)
        deadline = time.monotonic() + self._timeout_s * max(1, len(messages) // 500 + 1)
        results = []
        for info in infos:
            if info is None or info.rc != mqtt.MQTT_ERR_SUCCESS:
                results.append(False)
                continue
            try:
                info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            except (ValueError, RuntimeError):
                results.append(False)
                continue
            results.append(info.is_published())
        return results

    def is_reachable(self) -> bool:
        return self._wait_connected()

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        with self._lock:
            if self._started:
                self._client.disconnect()
                self._client.loop_stop()
                self._started = False
