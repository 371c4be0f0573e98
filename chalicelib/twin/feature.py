"""The device twin: operator and device routes, reported state over MQTT."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.features import Feature
from chalicelib.twin import routes

if TYPE_CHECKING:
    from chalicelib.container import Container
    from chalicelib.ingress.router import DeviceMessageRouter


def device_messages(router: DeviceMessageRouter, c: Container) -> None:
    """A device's reported state on its project topic."""
    from chalicelib.twin.service import REPORTED_SUFFIX  # the service loads the store: not at app import

    router.register(REPORTED_SUFFIX, c.twin_service.on_reported_message)


FEATURE = Feature(blueprints=(routes.bp,), device_messages=device_messages)
