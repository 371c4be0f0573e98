"""The bridge container's health check against a real bridge process and broker."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.local.processes import Child, python_module
from mqtt_bridge.config import BridgeSettings
from tests.conftest import Stack
from tests.integration.bridge_support import bridge_settings, wait_until

__all__ = ["bridge_settings"]  # a fixture, used by name
pytestmark = pytest.mark.slow


def _check(env: dict[str, str]) -> int:
    return subprocess.run([sys.executable, "-m", "mqtt_bridge.health"], env={**os.environ, **env},
                          capture_output=True, timeout=30).returncode


def test_health_check_passes_while_connected_and_fails_once_the_bridge_is_gone(
        stack: Stack, bridge_settings: Callable[..., BridgeSettings], tmp_path: Path) -> None:
    settings = bridge_settings()
    health = {"BRIDGE_HEALTH_FILE": str(tmp_path / "health"), "BRIDGE_HEALTH_EVERY_S": "0.5",
              "BRIDGE_HEALTH_MAX_AGE_S": "3"}
    env = {"BRIDGE_MQTT_HOST": settings.mqtt_host, "BRIDGE_MQTT_PORT": str(settings.mqtt_port),
           "BRIDGE_MQTT_USERNAME": settings.mqtt_username, "BRIDGE_MQTT_PASSWORD": settings.mqtt_password,
           "BRIDGE_CLIENT_ID": settings.client_id, "BRIDGE_JOURNAL_PATH": str(tmp_path / "journal.jsonl"),
           "PYTHONUNBUFFERED": "1", **health}
    # Given no bridge yet: unhealthy
    assert _check(health) == 1
    bridge = Child("bridge", python_module("infra.local.bridge_journal"), tmp_path / "bridge.log", env).start()
    try:
        # When it has connected: healthy
        wait_until(lambda: _check(health) == 0, timeout=30, what="healthy bridge")
    finally:
        bridge.stop()
    # Then, gone for longer than the allowed age: unhealthy again
    time.sleep(3.5)
    assert _check(health) == 1
