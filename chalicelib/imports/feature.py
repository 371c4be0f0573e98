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
    from chalicelib.commands.models import CommandModel
    from chalicelib.devices.models import DeviceModel, RegistryEpochModel, TokenModel
    from chalicelib.groups.store import GroupModel, MembershipModel
    from chalicelib.imports.models import DeviceImportModel, ImportChunkModel
    from chalicelib.jobs.counter_store import JobCounterModel
    from chalicelib.jobs.execution_store import ExecutionModel
    from chalicelib.jobs.store import JobModel
    from chalicelib.sites.store import SiteModel
    return {"device_imports": FunctionAccess(
        tables=(
            TableAccess(DeviceImportModel, ("GetItem", "Query", "UpdateItem"), ("import_due",)),
            TableAccess(ImportChunkModel, ("GetItem", "Query", "UpdateItem")),
            TableAccess(DeviceModel, ("BatchGetItem", "PutItem")),
            TableAccess(TokenModel, ("PutItem",)),
            TableAccess(CertificateModel, ("PutItem",)),
            TableAccess(GroupModel, ("BatchGetItem", "UpdateItem")),
            TableAccess(MembershipModel, ("PutItem",)),
            TableAccess(SiteModel, ("BatchGetItem", "UpdateItem")),
            TableAccess(RegistryEpochModel, ("UpdateItem",)),
            TableAccess(CommandModel, ("BatchWriteItem", "UpdateItem")),
            TableAccess(JobModel, ("GetItem", "Query", "UpdateItem"), ("continuous",)),
            TableAccess(ExecutionModel, ("PutItem", "Query"), ("pending",)),
            TableAccess(JobCounterModel, ("Query",)),
        ),
        publishes=True,
        iot_actions=ISSUE_ACTIONS,
    )}


FEATURE = Feature(name="imports", blueprints=(routes.bp,), schedules=(schedule.bp,), models=models,
                  services=ImportServices, access=access)
