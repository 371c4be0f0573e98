"""Commands: operator and device routes, the per-minute retry and expiry, acks and requests over MQTT,
and group and site commands (batches) with their per-minute resume."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.commands import device_routes, routes, schedule
from chalicelib.commands.batches import routes as batch_routes
from chalicelib.commands.batches import schedule as batch_schedule
from chalicelib.core.topics import COMMANDS_REQUEST_SUFFIX
from chalicelib.features import Feature

if TYPE_CHECKING:
    from chalicelib.container import Container
    from chalicelib.ingress.router import DeviceMessageRouter


def device_messages(router: DeviceMessageRouter, c: Container) -> None:
    """Acks, explicit requests for the queue, and redelivery to a device back from being away."""
    router.register("commands/ack", c.device_command_service.handle_mqtt_ack)
    # A device back from being away, or asking, gets its queued commands again (offline delivery).
    router.register(COMMANDS_REQUEST_SUFFIX, c.command_dispatcher.handle_request)
    router.on_return(c.command_dispatcher.redeliver, unless_suffix=COMMANDS_REQUEST_SUFFIX)


FEATURE = Feature(blueprints=(routes.bp, device_routes.bp, schedule.bp, batch_routes.bp, batch_schedule.bp),
                  device_messages=device_messages)
