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
from chalicelib.devices.models import DeviceModel, TokenModel
from chalicelib.firmware.store import FirmwareModel, VersionCountModel
from chalicelib.groups.store import MembershipModel
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
    # S3 actions on the objects of the stage's firmware bucket (presigning a URL needs the
    # action it grants: GetObject for devices' downloads, PutObject for operators' uploads).
    firmware_objects: tuple[str, ...] = ()
    # S3 actions on the bucket itself (listing an image's versions to delete them all).
    firmware_bucket: tuple[str, ...] = ()


def _all_indexes(model: type[Model]) -> tuple[str, ...]:
    from infra.aws.tables import index_names

    return tuple(index_names(model))


HEALTH_TOPIC = "$aws/health/fleet-control-plane"
# Delivering a document with a firmware reference: read the artifact, sign a download URL.
RESOLVE_FIRMWARE = TableAccess(FirmwareModel, ("BatchGetItem",))
SIGN_DOWNLOADS = ("s3:GetObject",)

FUNCTIONS: dict[str, FunctionAccess] = {
    # Every HTTP route: the whole registry, read and write.
    "api_handler": FunctionAccess(
        tables=tuple(TableAccess(m, READ_WRITE, _all_indexes(m)) for m in ALL_MODELS),
        publishes=True, extra_topics=(HEALTH_TOPIC,),
        # Upload URLs, the digest on completion, deleting every version of an image.
        firmware_objects=("s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject",
                          "s3:DeleteObjectVersion"),
        firmware_bucket=("s3:ListBucket", "s3:ListBucketVersions"),
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
            # A device asking for its queued commands (`commands/request`, or back from away) gets them again.
            TableAccess(CommandModel, ("GetItem", "Query", "UpdateItem"), ("queued_by_device",)),
            TableAccess(JobModel, ("GetItem", "UpdateItem")),
            TableAccess(ExecutionModel, ("GetItem", "UpdateItem")),
            # Sharded counters: one shard per update; the last finisher's completion checks them all.
            TableAccess(JobCounterModel, ("Query", "UpdateItem", "ConditionCheckItem")),
            # A reported firmware version moves the fleet's and the device's groups' counters.
            TableAccess(VersionCountModel, ("UpdateItem",)),
            TableAccess(MembershipModel, ("Query",), ("by_device",)),
            # Documents delivered on AWS IoT's jobs topics carry per-device firmware URLs.
            RESOLVE_FIRMWARE,
        ),
        publishes=True, firmware_objects=SIGN_DOWNLOADS,
    ),
    "commands_retry": FunctionAccess(
        tables=(TableAccess(CommandModel, ("GetItem", "Query", "UpdateItem"), ("retry_due",)), RESOLVE_FIRMWARE),
        publishes=True, firmware_objects=SIGN_DOWNLOADS,
    ),
    "commands_expiry": FunctionAccess(
        tables=(TableAccess(CommandModel, ("GetItem", "Query", "UpdateItem"), ("expiry_due",)),),
    ),
    # Expires and cancels in chunks (a Query of the job's executions, BatchWriteItem), completes jobs,
    # releases the next minute of a rollout (and notifies it), times out hung executions.
    "jobs_sweep": FunctionAccess(
        tables=(
            # A release notifies each device with its whole pending list (the `pending` index, the jobs in it).
            TableAccess(JobModel, ("GetItem", "BatchGetItem", "Query", "UpdateItem"), ("due",)),
            TableAccess(ExecutionModel, ("GetItem", "Query", "UpdateItem", "BatchWriteItem"), ("timeouts", "pending")),
            TableAccess(JobCounterModel, ("Query", "UpdateItem", "ConditionCheckItem")),
            RESOLVE_FIRMWARE,
        ),
        publishes=True, firmware_objects=SIGN_DOWNLOADS,
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
            # A group's update_firmware: the artifact is held until the batch expires, then signed per device.
            TableAccess(FirmwareModel, ("GetItem", "BatchGetItem", "UpdateItem")),
        ),
        publishes=True, firmware_objects=SIGN_DOWNLOADS,
    ),
    # AWS IoT Core custom authorizer: looks up the provision token, nothing else.
    "iot_authorizer": FunctionAccess(tables=(TableAccess(TokenModel, ("GetItem",)),)),
}
