"""Sites: operator routes, a device's place in a site, the per-minute schedule fan-out."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalicelib.core.feature import Feature, FunctionAccess, TableAccess
from chalicelib.sites import routes, schedule
from chalicelib.sites.services import SiteServices

if TYPE_CHECKING:
    from pynamodb.models import Model


def models() -> tuple[type[Model], ...]:
    """Sites (a device's place in one is an attribute of the device item)."""
    from chalicelib.sites.store import SiteModel
    return (SiteModel,)


def access() -> Mapping[str, FunctionAccess]:
    """The fan-out's resume: the site's devices, a batch of welcome commands."""
    from chalicelib.commands.models import CommandModel
    from chalicelib.devices.models import DeviceModel
    from chalicelib.sites.store import SiteModel
    return {"site_fanout": FunctionAccess(
        tables=(
            TableAccess(SiteModel, ("GetItem", "Query", "UpdateItem"), ("fanout_due",)),
            TableAccess(DeviceModel, ("Query", "UpdateItem"), ("by_site",)),
            TableAccess(CommandModel, ("BatchWriteItem", "UpdateItem")),
        ),
        publishes=True,
    )}


FEATURE = Feature(name="sites", blueprints=(routes.bp,), schedules=(schedule.bp,), models=models,
                  services=SiteServices, access=access)
