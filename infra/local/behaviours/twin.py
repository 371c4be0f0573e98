"""Simulated devices keep their twin in sync: apply the retained desired document, report it back.

Set `options["twin"] = False` on a device identity to leave its twin alone (to demo `pending`).
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.twin.rules import compute_delta, merge

if TYPE_CHECKING:
    from infra.local.simulator import DeviceIdentity, MessageHandler

log = logging.getLogger(__name__)


class TwinDevice(Protocol):
    """What the twin behaviour touches on a SimulatedDevice."""

    @property
    def identity(self) -> DeviceIdentity: ...

    @property
    def device_id(self) -> str: ...

    def on(self, suffix: str, handler: MessageHandler) -> None: ...

    def publish(self, suffix: str, payload: dict[str, Any], qos: int = 1) -> None: ...


class TwinApplier:
    """The device's local settings and the desired version they correspond to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reported: dict[str, Any] = {}
        self.version = -1
        self._from_desired: set[str] = set()

    def on_desired(self, device: TwinDevice, topic: str, payload: dict[str, Any]) -> None:
        """Apply `{desired, version}` and confirm it on `shadow/reported`."""
        desired, version = payload.get("desired"), payload.get("version")
        if not isinstance(desired, dict) or not isinstance(version, int) or isinstance(version, bool):
            log.warning("%s: ignoring malformed desired document on %s", device.device_id, topic)
            return
        with self._lock:
            if version < self.version:
                return  # an older document arriving late: the newer one is already applied
            changes: dict[str, Any] = compute_delta(desired, self.reported)
            # Settings an operator no longer wants go back to unset; the device's own keys stay.
            changes.update({key: None for key in self._from_desired - desired.keys()})
            self.reported = merge(self.reported, changes)
            self._from_desired = set(desired)
            self.version = version
        # Report even an unchanged document: the confirmation of `version` is what syncs the twin.
        device.publish("shadow/reported", {"reported": changes, "version": version})


def install(device: TwinDevice) -> None:
    """Subscribe the device to its retained desired document."""
    if device.identity.options.get("twin") is False:
        return
    device.on("shadow/desired", TwinApplier().on_desired)
