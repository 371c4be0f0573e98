"""What each Lambda function may touch: the single source of its IAM policy.

Each feature declares what its functions reach (`Feature.access` in its `feature.py`: the
entry point followed to the repositories it builds and the tables and indexes they use); a
function several features serve (device_message) gets the union. The API handler reaches
every feature's table. `tests/integration/test_iam_policies.py` checks the result the other
way round: it runs every function against a real DynamoDB engine, records each AWS call it
makes, and fails when a call is not allowed by the function's generated policy.
"""
from __future__ import annotations

from pynamodb.models import Model

from chalicelib.core.feature import FunctionAccess, TableAccess
from chalicelib.features import all_models, function_access

# TransactGetItems needs GetItem, TransactWriteItems the item action, on each table.
READ = ("GetItem", "BatchGetItem", "Query", "ConditionCheckItem")
WRITE = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")
READ_WRITE = READ + WRITE

__all__ = ["FUNCTIONS", "FunctionAccess", "TableAccess"]


def _all_indexes(model: type[Model]) -> tuple[str, ...]:
    from infra.aws.tables import index_names

    return tuple(index_names(model))


HEALTH_TOPIC = "$aws/health/fleet-control-plane"

_DECLARED = function_access()

FUNCTIONS: dict[str, FunctionAccess] = {
    # Every HTTP route: the whole registry, read and write; and what features add to it (AWS IoT certificates).
    "api_handler": FunctionAccess(
        tables=tuple(TableAccess(m, READ_WRITE, _all_indexes(m)) for m in all_models()),
        # A group command handed over after its first chunk is started at once (commands feature).
        publishes=True, extra_topics=(HEALTH_TOPIC,), invokes=("command_batches",),
        # Firmware: upload URLs, the digest on completion, deleting every version of an image.
        bucket_objects=("s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject",
                        "s3:DeleteObjectVersion"),
        bucket=("s3:ListBucket", "s3:ListBucketVersions"),
    ) | FunctionAccess(iot_actions=_DECLARED["api_handler"].iot_actions if "api_handler" in _DECLARED else ()),
    # Verifies operator JWTs against a JWKS URL: no AWS call at all.
    "operator_auth": FunctionAccess(),
    # The features' own functions: device_message (not AWS IoT's `$aws/things/...` requests: on AWS
    # IoT Core its own services answer them, so FLEET_AWS_IOT_TOPICS is off there and this function
    # never sees them), the schedules, the IoT Core authorizer.
    **{name: access for name, access in _DECLARED.items() if name != "api_handler"},
}
