"""Device imports: operator routes, the per-minute resume, their tables and what the resume touches."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalicelib.core.feature import Feature, FunctionAccess, TableAccess
from chalicelib.imports import routes, schedule
from chalicelib.imports.services import ImportServices

if TYPE_CHECKING:
    from pynamodb.models import Model

# What AWS IoT's CreateKeysAndCertificate for a row needs (FLEET_CERTIFICATE_AUTHORITY=aws-iot): sign, make the
# device's thing on first use, bind the certificate to it and to the device policy.
ISSUE_ACTIONS = ("iot:AttachPolicy", "iot:AttachThingPrincipal", "iot:CreateKeysAndCertificate", "iot:CreateThing",
                 "iot:DescribeThing")


def models() -> tuple[type[Model], ...]:
    """Imports and their chunks of rows."""
    from chalicelib.imports.models import DeviceImportModel, ImportChunkModel
    return (DeviceImportModel, ImportChunkModel)


def access() -> Mapping[str, FunctionAccess]:
    """The resume: its chunks, the devices (existing ones read, new ones written in transactions with their
    tokens, memberships and group and site counts, and the certificates rows ask for), welcome commands of mapped
    rows, continuous jobs. With AWS IoT as the authority, the resume has it sign those certificates."""
    from chalicelib.certificates.store import CertificateModel
    from chalicelib.imports.device_store import bulk_write_access
    from chalicelib.imports.models import DeviceImportModel, ImportChunkModel
    return {"device_imports": FunctionAccess(
        tables=(
            TableAccess(DeviceImportModel, ("GetItem", "Query", "UpdateItem"), ("import_due",)),
            TableAccess(ImportChunkModel, ("GetItem", "Query", "UpdateItem")),
            *bulk_write_access(),
            TableAccess(CertificateModel, ("PutItem",)),
        ),
        publishes=True,
        iot_actions=ISSUE_ACTIONS,
    )}


FEATURE = Feature(name="imports", blueprints=(routes.bp,), schedules=(schedule.bp,), models=models,
                  services=ImportServices, access=access)
