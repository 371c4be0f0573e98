"""The list of our tables, their binding and creation from the models."""
from __future__ import annotations

from pynamodb.models import Model

from chalicelib.config import Settings
from chalicelib.storage.base import bind_models
from chalicelib.storage.command_models import CommandModel
from chalicelib.storage.device_models import DeviceModel, RegistryEpochModel, TokenModel
from chalicelib.storage.groups import GroupModel, MembershipModel
from chalicelib.storage.idempotency import IdempotencyModel
from chalicelib.storage.job_executions import ExecutionModel
from chalicelib.storage.jobs import JobModel
from chalicelib.storage.sites import SiteModel

# Each feature appends its models here; tables are only ever created from this list.
ALL_MODELS: list[type[Model]] = [
    DeviceModel,
    TokenModel,
    RegistryEpochModel,
    GroupModel,
    MembershipModel,
    CommandModel,
    JobModel,
    ExecutionModel,
    IdempotencyModel,
    SiteModel,
]


def bind(settings: Settings) -> None:
    """Point every model at the stage's tables and endpoint."""
    bind_models(ALL_MODELS, settings)


def create_tables(settings: Settings) -> list[str]:
    """Create any missing table (on-demand billing), waiting until each is active."""
    bind(settings)
    created = []
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            created.append(model.Meta.table_name)
    return created
