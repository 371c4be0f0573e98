"""The device registry: operator routes, the device's heartbeat, presence on every device message."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalicelib.core.feature import Feature, FunctionAccess, TableAccess
from chalicelib.devices import device_routes, routes
from chalicelib.devices.services import DeviceServices

if TYPE_CHECKING:
    from pynamodb.models import Model


def models() -> tuple[type[Model], ...]:
    """Devices, their provision tokens, and the registry's credentials epoch."""
    from chalicelib.devices.models import DeviceModel, RegistryEpochModel, TokenModel
    return (DeviceModel, TokenModel, RegistryEpochModel)


def access() -> Mapping[str, FunctionAccess]:
    """Presence: every device message reads and touches its device (conditional UpdateItem)."""
    from chalicelib.devices.models import DeviceModel
    return {"device_message": FunctionAccess(tables=(TableAccess(DeviceModel, ("GetItem", "UpdateItem")),),
                                             publishes=True)}


FEATURE = Feature(name="devices", blueprints=(routes.bp, device_routes.bp), models=models,
                  services=DeviceServices, access=access)
