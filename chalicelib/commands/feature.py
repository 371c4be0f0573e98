"""Commands: operator and device routes, the per-minute retry and expiry, acks and requests over MQTT,
and group and site commands (batches) with their per-minute resume."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalicelib.commands import device_routes, routes, schedule
from chalicelib.commands.batches import routes as batch_routes
from chalicelib.commands.batches import schedule as batch_schedule
from chalicelib.commands.services import CommandServices
from chalicelib.core.feature import DeviceMessages, Feature, FunctionAccess, TableAccess
from chalicelib.core.topics import COMMANDS_REQUEST_SUFFIX

if TYPE_CHECKING:
    from pynamodb.models import Model


def models() -> tuple[type[Model], ...]:
    """Commands, and group and site commands (batches)."""
    from chalicelib.commands.batches.store import CommandBatchModel
    from chalicelib.commands.models import CommandModel
    return (CommandModel, CommandBatchModel)


def device_messages(router: DeviceMessages, c: CommandServices) -> None:
    """Acks, explicit requests for the queue, and redelivery to a device back from being away."""
    router.register("commands/ack", c.device_command_service.handle_mqtt_ack)
    # A device back from being away, or asking, gets its queued commands again (offline delivery).
    router.register(COMMANDS_REQUEST_SUFFIX, c.command_dispatcher.handle_request)
    router.on_return(c.command_dispatcher.redeliver, unless_suffix=COMMANDS_REQUEST_SUFFIX)


def access() -> Mapping[str, FunctionAccess]:
    """The device's ACKs (a failed condition reads the command), the per-minute retry, expiry and batches."""
    from chalicelib.commands.batches.store import CommandBatchModel
    from chalicelib.commands.models import CommandModel
    from chalicelib.devices.models import DeviceModel
    from chalicelib.groups.store import MembershipModel
    return {
        # A device asking for its queued commands (`commands/request`, or back from away) gets them again.
        "device_message": FunctionAccess(tables=(TableAccess(CommandModel, ("GetItem", "Query", "UpdateItem"),
                                                             ("queued_by_device",)),), publishes=True),
        "commands_retry": FunctionAccess(
            tables=(TableAccess(CommandModel, ("GetItem", "Query", "UpdateItem"), ("retry_due",)),),
            publishes=True,
        ),
        "commands_expiry": FunctionAccess(
            tables=(TableAccess(CommandModel, ("GetItem", "Query", "UpdateItem"), ("expiry_due",)),),
        ),
        # Resumes a group or site command: the batch, the members (memberships and device status,
        # or the by-site index), the commands already written, a batch of new ones.
        "command_batches": FunctionAccess(
            tables=(
                TableAccess(CommandBatchModel, ("GetItem", "Query", "UpdateItem"), ("batch_due",)),
                TableAccess(MembershipModel, ("Query",)),
                TableAccess(DeviceModel, ("BatchGetItem", "Query"), ("by_site",)),
                TableAccess(CommandModel, ("BatchGetItem", "BatchWriteItem", "UpdateItem")),
            ),
            # Out of time, it starts its own next run at once rather than leave the rest for the minute.
            publishes=True, invokes=("command_batches",),
        ),
    }


FEATURE = Feature(name="commands", blueprints=(routes.bp, device_routes.bp, batch_routes.bp),
                  schedules=(schedule.bp, batch_schedule.bp), models=models, services=CommandServices,
                  device_messages=device_messages, access=access)
