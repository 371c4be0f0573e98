"""Every feature of the app: app.py registers their routes, the container their device-message handlers.

A feature says what it brings in its own `feature.py` (blueprints of routes, schedules and
functions; the device-to-cloud handlers it serves); this list only orders them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalice import Blueprint, Chalice

if TYPE_CHECKING:
    from chalicelib.container import Container
    from chalicelib.ingress.router import DeviceMessageRouter

DeviceMessageHandlers = Callable[["DeviceMessageRouter", "Container"], None]


@dataclass(frozen=True)
class Feature:
    """What one feature registers: its blueprints and, when it serves any, its device-message handlers."""

    blueprints: tuple[Blueprint, ...]
    device_messages: DeviceMessageHandlers | None = None


def all_features() -> tuple[Feature, ...]:
    """Every feature, in registration order (device-message handlers are matched in this order)."""
    # Imported here: each feature module imports `Feature` from this one.
    from chalicelib.apidocs.feature import FEATURE as apidocs
    from chalicelib.aws_iot.feature import FEATURE as aws_iot
    from chalicelib.broker_auth.feature import FEATURE as broker_auth
    from chalicelib.commands.feature import FEATURE as commands
    from chalicelib.core.auth import routes as auth
    from chalicelib.core.http import edge
    from chalicelib.core.observability import routes as observability
    from chalicelib.devices.feature import FEATURE as devices
    from chalicelib.firmware.feature import FEATURE as firmware
    from chalicelib.groups.feature import FEATURE as groups
    from chalicelib.health.feature import FEATURE as health
    from chalicelib.ingress.feature import FEATURE as ingress
    from chalicelib.jobs.feature import FEATURE as jobs
    from chalicelib.sites.feature import FEATURE as sites
    from chalicelib.twin.feature import FEATURE as twin

    # What every route stands on (core, not a feature): the one error shape, the request's correlation id
    # and access line, the operator authorizer.
    core = Feature(blueprints=(edge.bp, observability.bp, auth.bp))
    return (core, apidocs, health, devices, groups, ingress, commands, twin, sites, jobs, firmware, aws_iot,
            broker_auth)


def register_routes(app: Chalice) -> None:
    """Register every feature's blueprints on the app."""
    for feature in all_features():
        for blueprint in feature.blueprints:
            app.register_blueprint(blueprint)


def register_device_messages(router: DeviceMessageRouter, container: Container) -> None:
    """Let every feature register its device-to-cloud handlers on the router."""
    for feature in all_features():
        if feature.device_messages is not None:
            feature.device_messages(router, container)
