"""The MQTT side of the bridge: persistent session, QoS 1, acknowledge after forwarding.

Why nothing is lost: the bridge connects with a fixed client id and clean_session=False,
so the broker queues device-to-cloud messages while it is away, and it sends PUBACK for a
message only after the device-message function returned. A crash before that leaves the
message unacknowledged and the broker delivers it again (at least once, so handlers must
tolerate duplicates, which the domain's conditional writes make harmless).
"""
from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

import paho.mqtt.client as mqtt

from chalicelib.aws_iot.topics import bridge_subscriptions as aws_bridge_subscriptions
from chalicelib.core.retry import RetryPolicy
from chalicelib.core.topics import bridge_subscriptions
from mqtt_bridge.config import BridgeSettings
from mqtt_bridge.forwarder import Delivery, Forwarder, Stats
from mqtt_bridge.invokers import Invoker
from mqtt_bridge.socket_reader import ReadAheadClient
from mqtt_bridge.telemetry import logger, metrics


class Bridge:
    """Subscribes to the device-to-cloud topics and forwards every message once processed."""

    def __init__(self, settings: BridgeSettings, invoker: Invoker) -> None:
        self._settings = settings
        self._filters = bridge_subscriptions() + aws_bridge_subscriptions()
        retry = RetryPolicy(settings.retry_min_s, settings.retry_max_s, settings.max_attempts)
        self._forwarder = Forwarder(invoker, self._ack, settings.workers, retry, settings.batch_max,
                                    settings.batch_wait_ms / 1000)
        # Message ids are only meaningful on the connection that delivered them; the
        # generation changes at every disconnect, so a late PUBACK never reaches a newer
        # connection where the same id may name another message.
        self._lock = threading.Lock()
        self._generation = 0
        self._stopping = threading.Event()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._client = self._build_client()

    @property
    def stats(self) -> Stats:
        """Forwarding counters."""
        return self._forwarder.stats

    def _build_client(self) -> mqtt.Client:
        s = self._settings
        client = ReadAheadClient(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=s.client_id,
                                 clean_session=False, protocol=mqtt.MQTTv311, manual_ack=True)
        if s.mqtt_username:
            client.username_pw_set(s.mqtt_username, s.mqtt_password or None)
        if s.mqtt_tls:
            client.tls_set()
        client.reconnect_delay_set(s.reconnect_min_s, s.reconnect_max_s)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_subscribe = self._on_subscribe
        # Only messages matching no filter land here; they still need their PUBACK.
        client.on_message = self._on_unexpected
        for topic_filter in self._filters:
            client.message_callback_add(topic_filter, self._on_message)
        return client

    def start(self) -> Bridge:
        """Start the lanes and connect in the background (retrying until the broker is up)."""
        self._forwarder.start()
        s = self._settings
        logger.info("bridge connecting", client_id=s.client_id, host=s.mqtt_host, port=s.mqtt_port,
                    workers=s.workers, batch_max=s.batch_max, share_group=s.share_group or None, outcome="starting")
        self._client.connect_async(s.mqtt_host, s.mqtt_port, keepalive=s.keepalive_s)
        self._client.loop_start()
        return self

    def pending(self) -> int:
        """Messages received and not yet finished."""
        return self._forwarder.pending()

    def shutdown(self) -> bool:
        """Stop taking messages, finish in-flight ones, disconnect; False if some were left."""
        self._stopping.set()
        drained = self._forwarder.drain(self._settings.shutdown_grace_s)
        if not drained:
            logger.warning("messages unfinished at shutdown; the broker redelivers them", outcome="unfinished",
                           count=self._forwarder.pending())
        self._forwarder.stop()
        # A normal DISCONNECT keeps the persistent session; the PUBACKs queued before it go first.
        self._client.disconnect()
        self._client.loop_stop()
        logger.info("bridge stopped", outcome="stopped", extra=self.stats.as_dict())
        return drained

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: mqtt.ConnectFlags,
                    reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            logger.error("broker refused the connection", reason=str(reason_code), outcome="refused")
            return
        _no_delay(client)
        self.connected.set()
        logger.info("connected; subscribing", session_present=flags.session_present, filters=self._filters,
                    outcome="connected")
        # Subscribing again is harmless with a kept session and required without one.
        client.subscribe([(self._subscription(f), 1) for f in self._filters])

    def _subscription(self, topic_filter: str) -> str:
        """The filter as subscribed: shared by the bridges of one group, when one is set."""
        group = self._settings.share_group
        return f"$share/{group}/{topic_filter}" if group else topic_filter

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        s = self._settings
        logger.warning("cannot reach the broker; retrying with backoff", host=s.mqtt_host, port=s.mqtt_port,
                       outcome="unreachable")

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reason_codes: list[Any],
                      properties: Any) -> None:
        refused = [f for f, rc in zip(self._filters, reason_codes, strict=False) if rc.is_failure]
        if refused:
            logger.error("broker refused subscriptions (check the bridge's ACL)", filters=refused, outcome="refused")
            return
        self.subscribed.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any,
                       properties: Any) -> None:
        with self._lock:
            self._generation += 1
        self.connected.clear()
        self.subscribed.clear()
        if not self._stopping.is_set():
            logger.warning("disconnected; reconnecting with backoff", reason=str(reason_code), outcome="disconnected")

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if self._stopping.is_set():
            return  # left unacknowledged: the broker delivers it to the next session
        try:
            topic = message.topic
        except UnicodeDecodeError:
            self._drop(message, "non_utf8_topic", "")
            return
        if message.retain:
            # A retained copy is replayed to every new subscription, so it would be forwarded
            # again after each reconnect (a poison one would stall the bridge at every start).
            # Its live delivery, which went through, was not flagged retained.
            self._drop(message, "retained", topic)
            return
        if len(message.payload) > self._settings.max_payload_bytes:
            # No function could take it (and Lambda Invoke refuses 6 MB): retrying would block
            # the device's lane for ever, so it is logged and dropped like a malformed one.
            self._drop(message, "too_large", topic, size=len(message.payload), limit=self._settings.max_payload_bytes)
            return
        with self._lock:
            generation = self._generation
        self._forwarder.submit(Delivery(topic, bytes(message.payload), message.mid, message.qos, generation))

    def _on_unexpected(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._drop(message, "outside_filters", repr(message._topic))

    def _drop(self, message: mqtt.MQTTMessage, reason: str, topic: str, **details: object) -> None:
        """Log, count and acknowledge a message that will never be forwarded."""
        logger.warning("message dropped", topic=topic, reason=reason, outcome="dropped", extra=details)
        metrics.count_by("BridgeDrops", "reason", reason)
        self._ack_now(message)

    def _ack_now(self, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self._client.ack(message.mid, message.qos)

    def _ack(self, delivery: Delivery) -> None:
        with self._lock:
            if delivery.generation != self._generation:
                # Delivered on an earlier connection: the broker resends it (same session)
                # or has forgotten it (new session); either way this PUBACK must not go out.
                return
            self._client.ack(delivery.mid, delivery.qos)


def _no_delay(client: mqtt.Client) -> None:
    """Send each PUBACK at once instead of letting Nagle hold it back."""
    setsockopt = getattr(client.socket(), "setsockopt", None)
    if setsockopt is None:
        return  # not a plain socket (websockets): nothing to tune
    with contextlib.suppress(OSError):
        setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
