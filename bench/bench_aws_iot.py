"""AWS IoT SDK devices: request-to-answer latency of the SDK's own shadow and jobs clients."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import awsiot
from awscrt import mqtt5, mqtt_request_response
from awsiot import iotjobs, iotshadow

from bench.harness import LATENCY_COLUMNS, BenchContext, Table, latency_row, pick

N = pick(50, 30)
# The CRT's native objects are kept for the life of the process: collecting a request-response
# client after its connection stopped crashed the interpreter in the next benchmark.
_KEEP: list[Any] = []


def run(ctx: BenchContext) -> list[Table]:
    _, token = ctx.new_tenant()
    http = ctx.http(token)
    created = http.post(f"{ctx.api_url}/customer/devices", json={"device_id": "aws-bench"})
    created.raise_for_status()
    thing, password = created.json()["thing_name"], created.json()["provision_token"]
    ctx.sync_broker()
    stopped = threading.Event()
    client = _connect(ctx, thing, password, stopped)
    options = mqtt_request_response.ClientOptions(max_request_response_subscriptions=2,
                                                  max_streaming_subscriptions=2, operation_timeout_in_seconds=10)
    shadow = iotshadow.IotShadowClientV2(client, options)
    jobs = iotjobs.IotJobsClientV2(client, options)
    try:
        _until_answered(lambda: shadow.get_shadow(iotshadow.GetShadowRequest(thing_name=thing)).result(2))
        rows = [
            latency_row("shadow update (reported) -> update/accepted",
                        _time(lambda i: shadow.update_shadow(iotshadow.UpdateShadowRequest(
                            thing_name=thing, state=iotshadow.ShadowState(reported={"seq": i}))).result(10))),
            latency_row("shadow get -> get/accepted",
                        _time(lambda i: shadow.get_shadow(iotshadow.GetShadowRequest(thing_name=thing)).result(10))),
            latency_row("jobs get -> get/accepted",
                        _time(lambda i: jobs.get_pending_job_executions(
                            iotjobs.GetPendingJobExecutionsRequest(thing_name=thing)).result(10))),
        ]
    finally:
        _KEEP.extend([client, shadow, jobs])
        client.stop()
        stopped.wait(10)
    return [Table("AWS IoT Device SDK v2 (request-response clients, MQTT 5)", LATENCY_COLUMNS, rows,
                  ["SDK request -> Mosquitto -> bridge -> device-message function -> answer published -> SDK",
                   f"{N} sequential requests each; one device, plain TCP on loopback"])]


def _connect(ctx: BenchContext, thing: str, password: str, stopped: threading.Event) -> mqtt5.Client:
    connected: Future[bool] = Future()

    def on_connected(event: Any) -> None:
        if not connected.done():
            connected.set_result(True)

    client = mqtt5.Client(mqtt5.ClientOptions(
        host_name=ctx.mqtt_host, port=ctx.mqtt_port, disable_metrics=True,
        connect_options=mqtt5.ConnectPacket(client_id=thing, username=thing, password=password),
        on_lifecycle_event_connection_success_fn=on_connected,
        on_lifecycle_event_stopped_fn=lambda event: stopped.set()))
    client.start()
    connected.result(10)
    return client


def _until_answered(call: Callable[[], Any], timeout_s: float = 30.0) -> None:
    """The stack's bridge subscribes shortly after start: until it has, requests go unanswered."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            call()
            return
        except awsiot.V2ServiceException:
            return  # a rejection is an answer (no shadow yet)
        except TimeoutError:
            if time.monotonic() > deadline:
                raise


def _time(call: Callable[[int], Any]) -> list[float]:
    samples = []
    for i in range(N):
        start = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - start) * 1000)
    return samples
