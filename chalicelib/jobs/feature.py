"""Jobs: operator and device routes, the per-minute sweeps, execution updates over MQTT."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.features import Feature
from chalicelib.jobs import device_routes, routes, schedule

if TYPE_CHECKING:
    from chalicelib.container import Container
    from chalicelib.ingress.router import DeviceMessageRouter


def device_messages(router: DeviceMessageRouter, c: Container) -> None:
    """A device's update of one of its executions."""
    router.register("jobs/*/update", c.execution_service.handle_mqtt_update)


FEATURE = Feature(blueprints=(routes.bp, device_routes.bp, schedule.bp), device_messages=device_messages)
