"""Device imports: operator routes, the per-minute resume, their tables and what the resume touches."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalicelib.core.feature import Feature, FunctionAccess, TableAccess
from chalicelib.imports import routes, schedule
from chalicelib.imports.services import ImportServices

if TYPE_CHECKING:
    from pynamodb.models import Model


def models() -> tuple[type[Model], ...]:
    """Imports and their chunks of rows."""
    from chalicelib.imports.models import DeviceImportModel, ImportChunkModel
    return (DeviceImportModel, ImportChunkModel)


def access() -> Mapping[str, FunctionAccess]:
    """The resume: its chunks, the devices (existing ones read, new ones written in transactions with their
    tokens, memberships and group and site counts), welcome commands of mapped rows, continuous jobs."""
    from chalicelib.imports.device_store import bulk_write_access
    from chalicelib.imports.models import DeviceImportModel, ImportChunkModel
    return {"device_imports": FunctionAccess(
        tables=(
            TableAccess(DeviceImportModel, ("GetItem", "Query", "UpdateItem"), ("import_due",)),
            TableAccess(ImportChunkModel, ("GetItem", "Query", "UpdateItem")),
            *bulk_write_access(),
        ),
        publishes=True,
    )}


FEATURE = Feature(name="imports", blueprints=(routes.bp,), schedules=(schedule.bp,), models=models,
                  services=ImportServices, access=access)
