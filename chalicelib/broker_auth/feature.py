"""Broker authentication: the HTTP hooks of a self-hosted broker, AWS IoT Core's custom authorizer."""
from __future__ import annotations

from chalicelib.broker_auth import iot_authorizer, routes
from chalicelib.features import Feature

FEATURE = Feature(blueprints=(routes.bp, iot_authorizer.bp))
