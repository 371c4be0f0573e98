"""The bridge's health: a small status file it rewrites every few seconds, and the check that reads it.

    python -m mqtt_bridge.health     # exit 0 when connected and fresh, 1 otherwise (Docker HEALTHCHECK)
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from mqtt_bridge.config import BridgeSettings


def write(path: str, connected: bool, pending: int, now: float | None = None) -> None:
    """Replace the status file atomically (a reader never sees half of it)."""
    target = Path(path)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"connected": connected, "pending": pending, "updated_at": now or time.time()}))
    os.replace(tmp, target)


def check(path: str, max_age_s: float, now: float | None = None) -> tuple[bool, str]:
    """Healthy when the bridge is connected to its broker and wrote its status within max_age_s."""
    if not path:
        return False, "BRIDGE_HEALTH_FILE is not set"
    try:
        status = json.loads(Path(path).read_text())
        age = (now or time.time()) - float(status["updated_at"])
        connected = bool(status["connected"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return False, f"no readable status at {path}: {exc}"
    if age > max_age_s:
        return False, f"status is {age:.0f}s old (the bridge is stuck or gone)"
    if not connected:
        return False, "not connected to the broker"
    return True, f"connected, {status.get('pending', 0)} in flight"


def main() -> None:
    settings = BridgeSettings()
    ok, reason = check(settings.health_file, settings.health_max_age_s)
    print(reason)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
