"""Bridge settings come from BRIDGE_* variables and refuse inconsistent bounds."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from mqtt_bridge.config import BridgeSettings


def test_settings_are_read_from_bridge_prefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_MQTT_HOST", "broker.internal")
    monkeypatch.setenv("BRIDGE_MQTT_PORT", "8883")
    monkeypatch.setenv("BRIDGE_INVOKER", "lambda")
    monkeypatch.setenv("BRIDGE_WORKERS", "3")
    s = BridgeSettings()
    assert (s.mqtt_host, s.mqtt_port, s.invoker, s.workers) == ("broker.internal", 8883, "lambda", 3)
    assert s.client_id == "fleet-mqtt-bridge"


def test_unknown_invoker_kind_is_refused() -> None:
    with pytest.raises(ValidationError, match="invoker"):
        BridgeSettings(invoker="carrier-pigeon")  # type: ignore[arg-type]


def test_retry_bounds_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match="retry_max_s"):
        BridgeSettings(retry_min_s=5, retry_max_s=1)


def test_reconnect_bounds_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match="reconnect_max_s"):
        BridgeSettings(reconnect_min_s=10, reconnect_max_s=2)


@pytest.mark.parametrize("client_id", ["bridge-1", "t1.device-1", "board-a", "fleet-"])
def test_the_client_id_keeps_to_the_prefixes_no_claim_board_may_take(client_id: str) -> None:
    with pytest.raises(ValidationError, match="client_id"):
        BridgeSettings(client_id=client_id)
    assert BridgeSettings(client_id="fleet-bridge-2").client_id == "fleet-bridge-2"
