"""The device twin: operator and device routes, reported state over MQTT."""
from __future__ import annotations

from chalicelib.core.feature import DeviceMessages, Feature
from chalicelib.twin import routes
from chalicelib.twin.services import TwinServices


def device_messages(router: DeviceMessages, twin: TwinServices) -> None:
    """A device's reported state on its project topic."""
    from chalicelib.twin.service import REPORTED_SUFFIX  # the service loads the store: not at app import

    router.register(REPORTED_SUFFIX, twin.twin_service.on_reported_message)


# The twin lives in the devices feature's table (its documents are attributes of the device item).
FEATURE = Feature(name="twin", blueprints=(routes.bp,), services=TwinServices, device_messages=device_messages)
