"""Engines side by side: DynamoDB Local against moto's server, raw and through the whole stack.

Raw: UpdateItem on one table from a few threads, and the server's CPU per request.
Stack: a private local stack per engine; one device ACKs a batch of queued commands over
MQTT and the clock runs until the last one is delivered (broker, bridge, function, database).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import paho.mqtt.client as mqtt

from bench.harness import BenchContext, Table, pick
from infra.local.ddb_server import ENGINES, database_child, wait_ready
from infra.local.processes import free_port

RAW_SECONDS = 4.0
RAW_WARM_UP_S = 4.0  # a cold JVM compiles as it goes: measure DynamoDB Local (and moto alike) warm
RAW_THREADS = 4
ACKS = pick(200, 100)


def run(ctx: BenchContext) -> list[Table]:
    # DynamoDB Local in memory is what the tests run; on disk is what `make run` runs (data kept).
    raw = [["dynamodb-local (in memory)", *_raw_updates("dynamodb-local", on_disk=False)],
           ["dynamodb-local (on disk)", *_raw_updates("dynamodb-local", on_disk=True)],
           ["moto (in memory)", *_raw_updates("moto", on_disk=False)]]
    stack = [[f"{engine} ({'on disk' if engine == 'dynamodb-local' else 'in memory'})", *_in_own_process(engine)]
             for engine in ENGINES]
    ratio = [f"DynamoDB Local / moto: {raw[0][1] / raw[2][1]:.2f}x (in memory) and {raw[1][1] / raw[2][1]:.2f}x "
             f"(on disk) the UpdateItem rate, {stack[0][1] / stack[1][1]:.2f}x the ACKs/s through the stack"
             ] if raw[2][1] and stack[1][1] else []
    return [
        Table(f"Raw UpdateItem ({RAW_THREADS} threads, {RAW_SECONDS:.0f} s per engine after {RAW_WARM_UP_S:.0f} s "
              "of warm-up)", ["engine", "updates/s", "server CPU ms/request"], raw),
        Table(f"ACKs through the stack ({ACKS} queued commands ACKed over MQTT by one device)",
              ["engine", "ACKs/s", "seconds to the last delivered"], stack, ratio),
    ]


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its threads, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _raw_updates(engine: str, on_disk: bool) -> list[Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{engine}-") as tmp:
        port = free_port()
        child = database_child(engine, port, Path(tmp) / "data" if on_disk else None, Path(tmp) / "db.log").start()
        try:
            endpoint = f"http://127.0.0.1:{port}"
            wait_ready(endpoint, child)
            client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                                  aws_access_key_id="local", aws_secret_access_key="local")
            client.create_table(TableName="bench", BillingMode="PAY_PER_REQUEST",
                                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
            assert child.pid is not None
            _hammer(endpoint, RAW_WARM_UP_S)
            cpu_before = _cpu_seconds(child.pid)
            started = time.monotonic()
            total = _hammer(endpoint, RAW_SECONDS)
            elapsed = time.monotonic() - started
            cpu_ms = (_cpu_seconds(child.pid) - cpu_before) * 1000 / max(total, 1)
            return [total / elapsed, cpu_ms]
        finally:
            child.stop()


def _hammer(endpoint: str, seconds: float) -> int:
    """UpdateItem from RAW_THREADS threads for `seconds`; how many were done."""
    counts = [0] * RAW_THREADS
    deadline = time.monotonic() + seconds

    def hammer(i: int) -> None:
        own = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="local", aws_secret_access_key="local")
        while time.monotonic() < deadline:
            own.update_item(TableName="bench", Key={"pk": {"S": f"item-{i}-{counts[i] % 100}"}},
                            UpdateExpression="ADD n :one", ExpressionAttributeValues={":one": {"N": "1"}})
            counts[i] += 1

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(RAW_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts)


def _in_own_process(engine: str) -> list[Any]:
    """The stack measurement in a process of its own: a stack's settings are process-wide."""
    out = subprocess.run([sys.executable, "-m", "bench.bench_engines", engine], capture_output=True, text=True,
                         timeout=240, check=False)
    if out.returncode != 0:
        return [0.0, f"failed: {out.stderr.strip().splitlines()[-1:] or out.returncode}"]
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def _acks_through_stack(engine: str) -> list[Any]:
    """ACK/s through a private stack of this engine (run in its own process)."""
    from chalicelib.commands.models import CommandModel, device_key
    from chalicelib.commands.schemas import CreateCommand
    from chalicelib.container import container
    from chalicelib.core.identity import mqtt_username
    from chalicelib.core.topics import device_topic
    from chalicelib.devices.schemas import CreateDevice
    from infra.local.stack import LocalStack, StackOptions

    with tempfile.TemporaryDirectory(prefix=f"bench-stack-{engine}-") as tmp:
        options = StackOptions.ephemeral(Path(tmp), engine=engine)
        options.with_scheduler = False
        stack = LocalStack(options).start()
        try:
            stack.wait_healthy()
            tenant, device_id = "bench-engines", "acker"
            token = container().device_service.create(tenant, CreateDevice(device_id=device_id)).provision_token
            stack.sync.sync_once()
            commands = container().command_service.create_many(
                tenant, [(device_id, CreateCommand(command_type="ping"))] * ACKS, created_by="bench")
            username = mqtt_username(tenant, device_id)
            client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=username,
                                 protocol=mqtt.MQTTv311)
            client.username_pw_set(username, token)
            client.max_inflight_messages_set(100)
            client.connect("127.0.0.1", options.mqtt_port, keepalive=60)
            client.loop_start()
            topic = device_topic(tenant, device_id, "commands/ack")

            def queued() -> int:
                return int(CommandModel.queued_by_device.count(device_key(tenant, device_id)))

            started = time.monotonic()
            for command in commands:
                body = {"command_id": command.command_id, "status": "ok", "details": {}}
                client.publish(topic, json.dumps(body), qos=1)
            deadline = started + 120
            while queued() and time.monotonic() < deadline:
                time.sleep(0.1)
            elapsed = time.monotonic() - started
            left = queued()
            client.disconnect()
            client.loop_stop()
            return [(ACKS - left) / elapsed, elapsed]
        finally:
            stack.stop()


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.WARNING)
    print(json.dumps(_acks_through_stack(sys.argv[1])))
