"""`python -m mqtt_bridge`: run the bridge until SIGTERM or SIGINT, then exit 0."""
from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from chalicelib.core.observability.log import configure_process
from chalicelib.core.observability.log import logger as function_logger
from mqtt_bridge import health
from mqtt_bridge.bridge import Bridge
from mqtt_bridge.config import BridgeSettings
from mqtt_bridge.invokers import Invoker, build_invoker
from mqtt_bridge.telemetry import logger, metrics

STATS_EVERY_S = 60.0


def run(settings: BridgeSettings, wrap: Callable[[Invoker], Invoker] | None = None) -> int:
    """Run until a stop signal; `wrap` lets tools decorate the invoker (e.g. a journal)."""
    # JSON lines on stdout; the in-process function's own lines (its logger) too.
    configure_process(logger, function_logger)
    logger.setLevel(settings.log_level)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        logger.info("shutting down", signal=signum, outcome="stopping")
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    invoker = build_invoker(settings)
    bridge = Bridge(settings, wrap(invoker) if wrap else invoker).start()
    last = None
    next_stats = time.monotonic() + STATS_EVERY_S
    while True:
        _write_health(settings, bridge)
        # Is it keeping up: what it holds unfinished, every tick, next to the forward counters.
        metrics.gauge("BridgeBacklog", "bridge", settings.client_id or "bridge", bridge.pending())
        metrics.flush()
        if stop.wait(settings.health_every_s):
            break
        if time.monotonic() >= next_stats:
            next_stats += STATS_EVERY_S
            current = (bridge.stats.forwarded, bridge.stats.rejected, bridge.stats.retries)
            if current != last:
                logger.info("bridge stats", pending=bridge.pending(), outcome="running", extra=bridge.stats.as_dict())
                last = current
    bridge.shutdown()
    metrics.flush()
    return 0


def _write_health(settings: BridgeSettings, bridge: Bridge) -> None:
    if not settings.health_file:
        return
    try:
        health.write(settings.health_file, bridge.connected.is_set(), bridge.pending())
    except OSError as exc:  # a read-only or full disk must not stop the forwarding
        logger.warning("cannot write health file", path=settings.health_file, reason=str(exc), outcome="failed")


def main() -> None:
    """Entry point: settings from BRIDGE_* variables."""
    sys.exit(run(BridgeSettings()))


if __name__ == "__main__":
    main()
