"""Jobs: operator and device routes, the per-minute sweeps, execution updates over MQTT."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalicelib.core.feature import DeviceMessages, Feature, FunctionAccess, TableAccess
from chalicelib.jobs import device_routes, routes, schedule
from chalicelib.jobs.services import JobServices

if TYPE_CHECKING:
    from pynamodb.models import Model


def models() -> tuple[type[Model], ...]:
    """Jobs, their executions, and the sharded progress counters."""
    from chalicelib.jobs.counter_store import JobCounterModel
    from chalicelib.jobs.execution_store import ExecutionModel
    from chalicelib.jobs.store import JobModel
    return (JobModel, ExecutionModel, JobCounterModel)


def device_messages(router: DeviceMessages, jobs: JobServices) -> None:
    """A device's update of one of its executions."""
    router.register("jobs/*/update", jobs.execution_service.handle_mqtt_update)


def access() -> Mapping[str, FunctionAccess]:
    """Execution updates over MQTT, and the per-minute sweep."""
    from chalicelib.jobs.counter_store import JobCounterModel
    from chalicelib.jobs.execution_store import ExecutionModel
    from chalicelib.jobs.store import JobModel
    return {
        # (Conditional UpdateItems; a failed condition reads the item to tell a replay from a conflict.)
        "device_message": FunctionAccess(
            tables=(
                TableAccess(JobModel, ("GetItem", "UpdateItem")),
                TableAccess(ExecutionModel, ("GetItem", "UpdateItem")),
                # Sharded counters: one shard per update; the last finisher's completion checks them all.
                TableAccess(JobCounterModel, ("Query", "UpdateItem", "ConditionCheckItem")),
            ),
            publishes=True,
        ),
        # Expires and cancels in chunks (a Query of the job's executions, BatchWriteItem), completes jobs,
        # releases the next minute of a rollout (and notifies it), times out hung executions.
        "jobs_sweep": FunctionAccess(
            tables=(
                # A release notifies each device with its whole pending list (the `pending` index, its jobs).
                TableAccess(JobModel, ("GetItem", "BatchGetItem", "Query", "UpdateItem"), ("due",)),
                TableAccess(ExecutionModel, ("GetItem", "Query", "UpdateItem", "BatchWriteItem"),
                            ("timeouts", "pending")),
                TableAccess(JobCounterModel, ("Query", "UpdateItem", "ConditionCheckItem")),
            ),
            publishes=True,
        ),
    }


FEATURE = Feature(name="jobs", blueprints=(routes.bp, device_routes.bp), schedules=(schedule.bp,), models=models,
                  services=JobServices, device_messages=device_messages, access=access)
