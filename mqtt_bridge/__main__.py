"""`python -m mqtt_bridge`: run the bridge until SIGTERM or SIGINT, then exit 0."""
from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from mqtt_bridge import health
from mqtt_bridge.bridge import Bridge
from mqtt_bridge.config import BridgeSettings
from mqtt_bridge.invokers import Invoker, build_invoker

log = logging.getLogger("mqtt_bridge")

STATS_EVERY_S = 60.0


def run(settings: BridgeSettings, wrap: Callable[[Invoker], Invoker] | None = None) -> int:
    """Run until a stop signal; `wrap` lets tools decorate the invoker (e.g. a journal)."""
    logging.basicConfig(stream=sys.stderr, level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("botocore", "urllib3", "pynamodb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        log.info("signal %d: shutting down", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    invoker = build_invoker(settings)
    bridge = Bridge(settings, wrap(invoker) if wrap else invoker).start()
    last = None
    next_stats = time.monotonic() + STATS_EVERY_S
    while True:
        _write_health(settings, bridge)
        if stop.wait(settings.health_every_s):
            break
        if time.monotonic() >= next_stats:
            next_stats += STATS_EVERY_S
            current = (bridge.stats.forwarded, bridge.stats.rejected, bridge.stats.retries)
            if current != last:
                log.info("stats: %s, pending %d", bridge.stats, bridge.pending())
                last = current
    bridge.shutdown()
    return 0


def _write_health(settings: BridgeSettings, bridge: Bridge) -> None:
    if not settings.health_file:
        return
    try:
        health.write(settings.health_file, bridge.connected.is_set(), bridge.pending())
    except OSError as exc:  # a read-only or full disk must not stop the forwarding
        log.warning("cannot write health file %s: %s", settings.health_file, exc)


def main() -> None:
    """Entry point: settings from BRIDGE_* variables."""
    sys.exit(run(BridgeSettings()))


if __name__ == "__main__":
    main()
