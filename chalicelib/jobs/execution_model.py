"""The job-executions table's model: one item per (job, device), its pending and timeouts indexes."""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.core.storage.base import index_meta, table_meta
from chalicelib.core.storage.keys import tenant_key
from chalicelib.jobs.schemas import Execution, ExecutionStatus

# Partition key of a job's executions.
job_key = tenant_key
# Partition key of a device's open executions in the pending index.
device_key = tenant_key


class PendingIndex(GlobalSecondaryIndex["ExecutionModel"]):
    """A device's open executions, oldest job first (job ids are ULIDs).

    Sparse: `pending_key` is removed when an execution becomes final.
    """

    Meta = index_meta("pending", IncludeProjection(["status", "execution_number", "version_number", "queued_at"]))

    pending_key = UnicodeAttribute(hash_key=True)
    job_id = UnicodeAttribute(range_key=True)


class TimeoutIndex(GlobalSecondaryIndex["ExecutionModel"]):
    """IN_PROGRESS executions with a deadline (in-progress or step timeout), by schedule shard; sparse."""

    Meta = index_meta("timeouts", KeysOnlyProjection())

    timeout_shard = NumberAttribute(hash_key=True)
    timeout_at = UTCDateTimeAttribute(range_key=True)


class ExecutionModel(Model):
    """One device's execution of one job."""

    Meta = table_meta("job-executions")

    job_key = UnicodeAttribute(hash_key=True)
    device_id = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    job_id = UnicodeAttribute()
    status = UnicodeAttribute()
    status_details = JSONAttribute(default=dict)
    execution_number = NumberAttribute(default=1)
    version_number = NumberAttribute(default=1)
    queued_at = UTCDateTimeAttribute()
    started_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    pending_key = UnicodeAttribute(null=True)
    # Written by a bulk sweep: its marker and the status it moved the execution from,
    # so a sweep resumed after a crash can count the writes it did not get to count.
    swept_by = UnicodeAttribute(null=True)
    prev_status = UnicodeAttribute(null=True)
    pending = PendingIndex()
    # Held back by a rollout rate (not notified, not in the pending index) until released.
    held = BooleanAttribute(null=True)
    # Queued because the device joined a continuous job's target after creation.
    joined = BooleanAttribute(null=True)
    timeout_shard = NumberAttribute(null=True)
    timeout_at = UTCDateTimeAttribute(null=True)
    timeouts = TimeoutIndex()

    def to_record(self) -> Execution:
        return Execution(
            job_id=self.job_id, device_id=self.device_id, status=ExecutionStatus(self.status),
            status_details=self.status_details or {}, execution_number=int(self.execution_number),
            version_number=int(self.version_number), queued_at=self.queued_at, started_at=self.started_at,
            updated_at=self.updated_at, held=bool(self.held), timeout_at=self.timeout_at,
        )
