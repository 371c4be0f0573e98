"""The bridge bench's bridges: the stack's held aside, journaling and counting ones in share groups,
and the persistent sessions they leave (parked before a burst, forgotten after)."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt

from bench.harness import BenchContext
from chalicelib.aws_iot.topics import bridge_subscriptions as aws_subscriptions
from chalicelib.core.topics import bridge_subscriptions as core_subscriptions
from infra.local.processes import Child, python_module
from mqtt_bridge.config import BridgeSettings


@contextmanager
def holding_stack_bridge(ctx: BenchContext) -> Iterator[None]:
    """The stack's bridge stopped for the duration of the block, its session dropped.

    A kept session would queue a copy of every bench message (70,000 with FULL=1), which
    Mosquitto's once-a-second autosave rewrites in full each second through the rest of the
    bench. The bench's stack has no devices but the bench's own, so nothing else is dropped;
    the bridge subscribes afresh when it starts again.
    """
    stack_bridge = next((c for c in ctx.stack.children if c.name == "bridge"), None)
    if stack_bridge is None:
        yield
        return
    with ctx.stack.supervisor.holding("bridge"):  # the supervisor would restart it at once
        stack_bridge.stop()  # SIGTERM: it finishes in-flight messages
        forget_session(ctx, BridgeSettings().client_id)
        try:
            yield
        finally:
            stack_bridge.start()


@contextmanager
def journaled_bridge(ctx: BenchContext, journal: Path, workers: int, batch_max: int, log: Path) -> Iterator[Child]:
    """Replace the stack's bridge by the journaling one for the duration of the block."""
    with holding_stack_bridge(ctx):
        yield from journaling(ctx, journal, workers, batch_max, log)


def bridge_ids(count: int) -> tuple[list[str], str]:
    """Client ids for `count` bench bridges and their fresh share group."""
    run_id = uuid.uuid4().hex[:8]
    return [f"fleet-bench-bridge-{run_id}-{i}" for i in range(count)], f"bench-{run_id}"


@contextmanager
def counting_bridges(ctx: BenchContext, journals: list[Path], tmp: Path,
                      ids: tuple[list[str], str] | None = None) -> Iterator[list[Child]]:
    """One counting bridge per journal, all in one share group (fresh unless given), each on its own session."""
    client_ids, group = ids or bridge_ids(len(journals))
    children = [Child(f"bridge-count-{i}", python_module("infra.local.bridge_journal"), tmp / f"count-{i}.log",
                      {**ctx.stack.env(), "BRIDGE_JOURNAL_PATH": str(journal), "BRIDGE_JOURNAL_SINK": "count",
                       "BRIDGE_CLIENT_ID": client_id, "BRIDGE_SHARE_GROUP": group,
                       "BRIDGE_LOG_LEVEL": "WARNING"}).start()
                for i, (journal, client_id) in enumerate(zip(journals, client_ids, strict=True))]
    try:
        yield children
    finally:
        for child in children:
            child.stop()
        for client_id in client_ids:
            forget_session(ctx, client_id)


def park_session(ctx: BenchContext, client_id: str, group: str) -> None:
    """Leave a persistent session subscribed as a bridge of `group` would be, with no one connected to it."""
    user = ctx.stack.users["bridge"]
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                         clean_session=False, protocol=mqtt.MQTTv311)
    client.username_pw_set(user.username, user.password)
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    client.connect(ctx.mqtt_host, ctx.stack.o.mqtt_service_port, keepalive=10)
    client.loop_start()
    filters = core_subscriptions() + aws_subscriptions()
    client.subscribe([(f"$share/{group}/{topic_filter}", 1) for topic_filter in filters])
    if not subscribed.wait(10):
        raise RuntimeError("the parked bridge session was never subscribed")
    client.disconnect()
    client.loop_stop()


def forget_session(ctx: BenchContext, client_id: str) -> None:
    """Drop a bench bridge's persistent session, so its share of later messages is not queued for it."""
    user = ctx.stack.users["bridge"]
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                         clean_session=True, protocol=mqtt.MQTTv311)
    client.username_pw_set(user.username, user.password)
    client.connect(ctx.mqtt_host, ctx.stack.o.mqtt_service_port, keepalive=10)
    client.loop_start()
    client.disconnect()
    client.loop_stop()


def journaling(ctx: BenchContext, journal: Path, workers: int, batch_max: int, log: Path) -> Iterator[Child]:
    env = {**ctx.stack.env(), "BRIDGE_WORKERS": str(workers), "BRIDGE_BATCH_MAX": str(batch_max),
           "BRIDGE_JOURNAL_PATH": str(journal),
           "BRIDGE_LOG_LEVEL": "WARNING"}
    child = Child("bridge-journal", python_module("infra.local.bridge_journal"), log, env).start()
    try:
        yield child
    finally:
        child.stop()
