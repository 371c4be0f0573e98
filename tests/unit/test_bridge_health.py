"""The bridge's health check: connected and recently alive, or unhealthy with a reason."""
from __future__ import annotations

from pathlib import Path

from mqtt_bridge import health


def test_connected_and_fresh_is_healthy(tmp_path: Path) -> None:
    path = str(tmp_path / "h")
    health.write(path, connected=True, pending=3, now=1000.0)
    assert health.check(path, max_age_s=30, now=1010.0) == (True, "connected, 3 in flight")


def test_disconnected_stale_or_missing_is_unhealthy(tmp_path: Path) -> None:
    path = str(tmp_path / "h")
    assert health.check(path, 30)[0] is False  # never written: the bridge did not start
    health.write(path, connected=False, pending=0, now=1000.0)
    assert health.check(path, 30, now=1001.0) == (False, "not connected to the broker")
    health.write(path, connected=True, pending=0, now=1000.0)
    ok, reason = health.check(path, 30, now=1100.0)
    assert ok is False and "old" in reason
    Path(path).write_text("{not json")
    assert health.check(path, 30)[0] is False
    assert health.check("", 30) == (False, "BRIDGE_HEALTH_FILE is not set")
