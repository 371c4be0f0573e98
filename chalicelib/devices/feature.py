"""The device registry: operator routes, the device's heartbeat (presence itself is the router's)."""
from __future__ import annotations

from chalicelib.devices import device_routes, routes
from chalicelib.features import Feature

FEATURE = Feature(blueprints=(routes.bp, device_routes.bp))
