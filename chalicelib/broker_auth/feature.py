"""Broker authentication: the HTTP hooks of a self-hosted broker, AWS IoT Core's custom authorizer."""
from __future__ import annotations

from collections.abc import Mapping

from chalicelib.broker_auth import iot_authorizer, routes
from chalicelib.core.feature import Feature, FunctionAccess, TableAccess


def access() -> Mapping[str, FunctionAccess]:
    """AWS IoT Core's custom authorizer looks up the provision token, nothing else."""
    from chalicelib.devices.models import TokenModel
    return {"iot_authorizer": FunctionAccess(tables=(TableAccess(TokenModel, ("GetItem",)),))}


# The broker's decisions read the devices feature's registry: no services of its own.
FEATURE: Feature[None] = Feature(name="broker_auth", blueprints=(routes.bp, iot_authorizer.bp), access=access)
