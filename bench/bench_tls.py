"""MQTT over TLS against the plain listener, same broker, same run: handshake (connect to CONNACK) and QoS 1 throughput.

Three ways in for one device: the plain device listener (token), server-side TLS (token,
MQTT_TLS_TOKEN_PORT) and mutual TLS (client certificate, MQTT_TLS_PORT). Each connect is a
fresh TCP connection and a full handshake (no session resumption); throughput is one
client publishing QoS 1 messages as fast as the broker acknowledges them.
"""
from __future__ import annotations

import functools
import ssl
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from bench.harness import LATENCY_COLUMNS, BenchContext, Table, latency_row, percentiles, pick
from chalicelib.core.identity import mqtt_username

CONNECTS = pick(200, 40)
MESSAGES = pick(20000, 3000)


def run(ctx: BenchContext) -> list[Table]:
    tenant, token = ctx.new_tenant()
    http = ctx.http(token)
    created = http.post(f"{ctx.api_url}/customer/devices", json={"device_id": "tls-bench"})
    created.raise_for_status()
    password = created.json()["provision_token"]
    cert = http.post(f"{ctx.api_url}/customer/devices/tls-bench/certificates", json={})
    cert.raise_for_status()
    ctx.sync_broker()
    tls = ctx.stack.broker.tls if ctx.stack.broker else None
    assert tls is not None, "the stack has no TLS listeners"
    name = mqtt_username(tenant, "tls-bench")
    with tempfile.TemporaryDirectory(prefix="bench-tls-") as tmp:
        cert_file, key_file = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert_file.write_text(cert.json()["certificate_pem"])
        key_file.write_text(cert.json()["private_key_pem"])
        ways: list[tuple[str, int, dict[str, Any]]] = [
            ("plain TCP, token", ctx.mqtt_port, {"password": password}),
            ("server TLS, token", tls.token_port, {"password": password, "ca": str(tls.ca_file)}),
            ("mutual TLS, certificate", tls.mtls_port,
             {"ca": str(tls.ca_file), "cert": str(cert_file), "key": str(key_file)}),
        ]
        handshakes = {label: [_connect_ms(ctx.mqtt_host, port, name, **how) for _ in range(CONNECTS)]
                      for label, port, how in ways}
        rates = {label: _throughput(ctx.mqtt_host, port, name, tenant, **how) for label, port, how in ways}
    base_p50 = percentiles(handshakes[ways[0][0]])["p50"]
    base_rate = rates[ways[0][0]]
    connect = Table(f"Connect to CONNACK, a full handshake each ({CONNECTS} connects per listener)",
                    [*LATENCY_COLUMNS, "p50 vs plain"],
                    [[*latency_row(label, samples), f"{percentiles(samples)['p50'] / base_p50:.1f}x"]
                     for label, samples in handshakes.items()],
                    ["TLS 1.3, ECDSA P-256 device and broker keys, P-384 CA; loopback, so the network adds nothing"])
    throughput = Table(f"QoS 1 publish throughput, one client ({MESSAGES} messages)",
                       ["listener", "messages/s", "vs plain"],
                       [[label, rate, f"{rate / base_rate:.2f}x"] for label, rate in rates.items()])
    return [connect, throughput]


@functools.cache
def _context(ca: str, cert: str | None, key: str | None) -> ssl.SSLContext:
    # One context per way in (as a device keeps one): what is measured is the handshake, not loading PEM files.
    context = ssl.create_default_context(cafile=ca)
    if cert:
        context.load_cert_chain(cert, key)
    return context


def _client(name: str, password: str | None = None, ca: str | None = None, cert: str | None = None,
            key: str | None = None) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv311)
    if ca:
        client.tls_set_context(_context(ca, cert, key))
    if password is not None:
        client.username_pw_set(name, password)
    return client


def _connect_ms(host: str, port: int, name: str, **how: Any) -> float:
    client = _client(name, **how)
    connected = threading.Event()
    client.on_connect = lambda *a: connected.set()
    started = time.perf_counter()
    client.connect(host, port, keepalive=30)
    while not connected.is_set():
        client.loop(timeout=0.01)
    elapsed = (time.perf_counter() - started) * 1000
    client.disconnect()
    return elapsed


def _throughput(host: str, port: int, name: str, tenant: str, **how: Any) -> float:
    client = _client(name, **how)
    client.max_inflight_messages_set(100)
    client.max_queued_messages_set(0)
    done = threading.Event()
    acked = [0]

    def on_publish(*args: Any) -> None:
        acked[0] += 1
        if acked[0] == MESSAGES:
            done.set()

    client.on_publish = on_publish
    client.connect(host, port, keepalive=30)
    client.loop_start()
    topic = f"tenant/{tenant}/device/tls-bench/status"
    payload = b'{"state": "online", "pad": "' + b"x" * 200 + b'"}'
    started = time.perf_counter()
    for _ in range(MESSAGES):
        client.publish(topic, payload, qos=1)
    done.wait(120)
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return acked[0] / elapsed
