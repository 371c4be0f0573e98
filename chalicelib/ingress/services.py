"""The device-message router, built on first use from the core (see core/feature.py)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.core.feature import Core, DeviceMessages
    from chalicelib.ingress.router import DeviceMessageRouter


def _none(router: DeviceMessages) -> None:
    return None


@dataclass(frozen=True)
class IngressHooks:
    """Registers every feature's device-to-cloud handlers on the router; wired by the composition root."""

    register: Callable[[DeviceMessages], None] = _none


class IngressServices:
    """The router every device-to-cloud message goes through."""

    def __init__(self, core: Core) -> None:
        self._core = core

    @cached_property
    def device_message_router(self) -> DeviceMessageRouter:
        """The router with every feature's device-to-cloud handlers registered by the feature."""
        from chalicelib.devices.services import DeviceServices
        from chalicelib.ingress.router import DeviceMessageRouter
        core = self._core
        router = DeviceMessageRouter(core.of(DeviceServices).device_service, core.settings.http.max_body_bytes)
        core.of(IngressHooks).register(router)
        return router
