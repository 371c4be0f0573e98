"""The simulated device's twin behaviour, driven with a recording stand-in for the device."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infra.local.behaviours.twin import TwinApplier, install
from infra.local.simulator import DeviceIdentity


@dataclass
class RecordingDevice:
    """Just what a behaviour touches on a SimulatedDevice."""

    identity: DeviceIdentity = field(default_factory=lambda: DeviceIdentity("t", "d", "tok"))
    handlers: dict[str, Any] = field(default_factory=dict)
    published: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    device_id: str = "d"

    def on(self, suffix: str, handler: Any) -> None:
        self.handlers[suffix] = handler

    def publish(self, suffix: str, payload: dict[str, Any], qos: int = 1) -> None:
        self.published.append((suffix, payload))


def test_device_applies_desired_and_reports_the_changes_with_the_version() -> None:
    device, applier = RecordingDevice(), TwinApplier()
    applier.on_desired(device, "t", {"desired": {"a": 1, "b": {"c": 2}}, "version": 1})
    applier.on_desired(device, "t", {"desired": {"b": {"c": 3}}, "version": 2})
    assert device.published == [
        ("shadow/reported", {"reported": {"a": 1, "b": {"c": 2}}, "version": 1}),
        # "a" is no longer desired: the device unsets it
        ("shadow/reported", {"reported": {"b": {"c": 3}, "a": None}, "version": 2}),
    ]
    assert applier.reported == {"b": {"c": 3}} and applier.version == 2


def test_a_late_older_document_is_ignored_and_a_redelivery_is_confirmed_again() -> None:
    device, applier = RecordingDevice(), TwinApplier()
    applier.on_desired(device, "t", {"desired": {"a": 2}, "version": 2})
    applier.on_desired(device, "t", {"desired": {"a": 1}, "version": 1})
    applier.on_desired(device, "t", {"desired": {"a": 2}, "version": 2})
    applier.on_desired(device, "t", {"desired": "junk", "version": 3})
    assert [p["version"] for _, p in device.published] == [2, 2]
    assert applier.reported == {"a": 2}


def test_install_subscribes_unless_the_twin_is_switched_off() -> None:
    on, off = RecordingDevice(), RecordingDevice(identity=DeviceIdentity("t", "d", "tok", {"twin": False}))
    install(on)
    install(off)
    assert list(on.handlers) == ["shadow/desired"] and off.handlers == {}
