"""paho-mqtt adapter: one connection per process, kept across Lambda invocations."""
from __future__ import annotations

import socket
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from chalicelib.core.messaging.base import Message, Publisher, topic_error
from chalicelib.core.observability.log import logger


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
            # MQTT 5: the broker's PUBACK says whether it accepted each message (3.1.1 cannot).
            protocol=mqtt.MQTTv5,
        )
        self._refused: dict[int, str] = {}
        self._abandoned: set[int] = set()
        if username:
            self._client.username_pw_set(username, password)
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        # More than the default 20 in flight, so a fan-out does not stall on acks.
        self._client.max_inflight_messages_set(200)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int,
                    reason_code: mqtt.ReasonCode, properties: object) -> None:
        # Runs before the message counts as published, so publish_many sees the refusal.
        # A late answer for a message already given up on is not kept: its mid will be
        # reused by a later message, which must not inherit the refusal.
        if mid in self._abandoned:
            self._abandoned.discard(mid)
        elif reason_code.is_failure:
            self._refused[mid] = str(reason_code)

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object,
                    reason_code: mqtt.ReasonCode, properties: object) -> None:
        if not reason_code.is_failure:
            # A batch is several small writes: without this, Nagle holds each one after the first
            # until the broker's delayed ACK (about 40 ms a batch).
            sock = client.socket()
            if isinstance(sock, socket.socket):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._connected.set()
        else:
            logger.warning("broker refused the publisher", reason=str(reason_code), outcome="refused")

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
            for _ in messages:
                self.stats.record(False, "broker unreachable")
            return [False] * len(messages)
        infos: list[mqtt.MQTTMessageInfo | str] = []
        for m in messages:
            invalid = topic_error(m.topic)
            if invalid:
                logger.error("publish dropped", topic=m.topic, reason=invalid, outcome="dropped")
                infos.append(invalid)
                continue
            try:
                infos.append(self._client.publish(m.topic, m.encoded(), qos=m.qos, retain=m.retain,
                                                 properties=_properties(m)))
            except (ValueError, RuntimeError) as exc:
                logger.error("publish dropped", topic=m.topic, reason=str(exc), outcome="dropped")
                infos.append(str(exc))
        deadline = time.monotonic() + self._timeout_s * max(1, len(messages) // 500 + 1)
        results = []
        for m, info in zip(messages, infos, strict=True):
            error = self._outcome(info, deadline)
            if error and not isinstance(info, str):
                logger.warning("publish failed", topic=m.topic, reason=error, outcome="failed")
            self.stats.record(not error, error)
            results.append(not error)
        return results

    def _outcome(self, info: mqtt.MQTTMessageInfo | str, deadline: float) -> str:
        """'' when the broker accepted the message, else why not."""
        if isinstance(info, str):
            return info
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return mqtt.error_string(info.rc)
        try:
            info.wait_for_publish(max(0.0, deadline - time.monotonic()))
        except (ValueError, RuntimeError) as exc:
            return str(exc)
        if not info.is_published():
            self._abandoned.add(info.mid)
            return "not acknowledged by the broker in time"
        refused = self._refused.pop(info.mid, None)
        return f"refused by the broker: {refused}" if refused else ""

    def is_reachable(self) -> bool:
        return self._wait_connected()

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        with self._lock:
            if self._started:
                self._client.disconnect()
                self._client.loop_stop()
                self._started = False


def _properties(message: Message) -> Properties | None:
    """MQTT 5 correlation data naming the work that sent the message (the payload stays as specified)."""
    if not message.correlation_id:
        return None
    props = Properties(PacketTypes.PUBLISH)
    props.CorrelationData = message.correlation_id.encode()
    props.UserProperty = ("correlation_id", message.correlation_id)
    return props
