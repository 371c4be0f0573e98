"""What each Lambda function may touch: the single source of its IAM policy.

Method: each function's entry point was followed through `chalicelib/container.py` to the
repositories it builds and the PynamoDB models (tables, indexes) those repositories use.
`tests/integration/test_iam_policies.py` checks the result the other way round: it runs
every function against a real DynamoDB engine, records each AWS call it makes, and fails
when a call is not allowed by the function's generated policy.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pynamodb.models import Model

from chalicelib.commands.batches.store import CommandBatchModel
from chalicelib.commands.models import CommandModel
from chalicelib.core.storage.tables import ALL_MODELS
from chalicelib.devices.models import DeviceModel, RegistryEpochModel, TokenModel
from chalicelib.groups.store import GroupModel, MembershipModel
from chalicelib.imports.store import DeviceImportModel, ImportChunkModel
from chalicelib.jobs.counter_store import JobCounterModel
from chalicelib.jobs.execution_store import ExecutionModel
from chalicelib.jobs.store import JobModel
from chalicelib.sites.store import SiteModel

# TransactGetItems needs GetItem, TransactWriteItems the item action, on each table.
READ = ("GetItem", "BatchGetItem", "Query", "ConditionCheckItem")
WRITE = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")
READ_WRITE = READ + WRITE


@dataclass(frozen=True)
class TableAccess:
    """DynamoDB actions on one table, and the indexes the function queries."""

    model: type[Model]
    actions: tuple[str, ...]
    indexes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FunctionAccess:
    """Everything one function reaches besides its own log group."""

    tables: tuple[TableAccess, ...] = ()
    # Publishes through the AWS IoT data plane (FLEET_MQTT_BACKEND=iot-data).
    publishes: bool = False
    # Topics outside the project prefix it publishes to (the health probe's).
    extra_topics: tuple[str, ...] = field(default=())
    # Issues and updates device certificates through AWS IoT (FLEET_CERTIFICATE_AUTHORITY=aws-iot).
    manages_certificates: bool = False


def _all_indexes(model: type[Model]) -> tuple[str, ...]:
    from infra.aws.tables import index_names

    return tuple(index_names(model))


HEALTH_TOPIC = "$aws/health/fleet-control-plane"

FUNCTIONS: dict[str, FunctionAccess] = {
    # Every HTTP route: the whole registry, read and write.
    "api_handler": FunctionAccess(
        tables=tuple(TableAccess(m, READ_WRITE, _all_indexes(m)) for m in ALL_MODELS),
        publishes=True, extra_topics=(HEALTH_TOPIC,), manages_certificates=True,
    ),
    # Verifies operator JWTs against a JWKS URL: no AWS call at all.
    "operator_auth": FunctionAccess(),
    # Device-to-cloud messages: presence, command ACKs, reported twin, job execution updates.
    # (Not AWS IoT's `$aws/things/...` requests: on AWS IoT Core its own services answer them,
    # so FLEET_AWS_IOT_TOPICS is off there and this function never sees them.)
    # (Conditional UpdateItems; a failed condition reads the item to tell a replay from a conflict.)
    "device_message": FunctionAccess(
        tables=(
            TableAccess(DeviceModel, ("GetItem", "UpdateItem")),
            TableAccess(CommandModel, ("GetItem", "UpdateItem")),
            TableAccess(JobModel, ("GetItem", "UpdateItem")),
            TableAccess(ExecutionModel, ("GetItem", "UpdateItem")),
            # Sharded counters: one shard per update; the last finisher's completion checks them all.
            TableAccess(JobCounterModel, ("Query", "UpdateItem", "ConditionCheckItem")),
        ),
        publishes=True,
    ),
    "commands_retry": FunctionAccess(
        tables=(TableAccess(CommandModel, ("GetItem", "Query", "UpdateItem"), ("retry_due",)),),
        publishes=True,
    ),
    "commands_expiry": FunctionAccess(
        tables=(TableAccess(CommandModel, ("GetItem", "Query", "UpdateItem"), ("expiry_due",)),),
    ),
    # Expires and cancels in chunks (a Query of the job's executions, BatchWriteItem), completes jobs,
    # releases the next minute of a rollout (and notifies it), times out hung executions.
    "jobs_sweep": FunctionAccess(
        tables=(
            TableAccess(JobModel, ("GetItem", "Query", "UpdateItem"), ("due",)),
            TableAccess(ExecutionModel, ("GetItem", "Query", "UpdateItem", "BatchWriteItem"), ("timeouts",)),
            TableAccess(JobCounterModel, ("Query", "UpdateItem", "ConditionCheckItem")),
        ),
        publishes=True,
    ),
    # Resumes a site's schedule fan-out: the site's devices, a batch of welcome commands.
    "site_fanout": FunctionAccess(
        tables=(
            TableAccess(SiteModel, ("GetItem", "Query", "UpdateItem"), ("fanout_due",)),
            TableAccess(DeviceModel, ("Query", "UpdateItem"), ("by_site",)),
            TableAccess(CommandModel, ("BatchWriteItem", "UpdateItem")),
        ),
        publishes=True,
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
        publishes=True,
    ),
    # Resumes a device import: its chunks, the devices (existing ones read, new ones written in transactions with
    # their tokens, memberships and group and site counts), welcome commands of mapped rows, continuous jobs.
    "device_imports": FunctionAccess(
        tables=(
            TableAccess(DeviceImportModel, ("GetItem", "Query", "UpdateItem"), ("import_due",)),
            TableAccess(ImportChunkModel, ("GetItem", "Query", "UpdateItem")),
            TableAccess(DeviceModel, ("BatchGetItem", "PutItem")),
            TableAccess(TokenModel, ("PutItem",)),
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
    ),
    # AWS IoT Core custom authorizer: looks up the provision token, nothing else.
    "iot_authorizer": FunctionAccess(tables=(TableAccess(TokenModel, ("GetItem",)),)),
}
