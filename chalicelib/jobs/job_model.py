"""The jobs table's model: one item per job, with per-status counters, sweep and rollout progress."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.expressions.update import Action
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.core.storage.base import index_meta, table_meta
from chalicelib.core.storage.due import DueIndex, DueKeys
from chalicelib.core.storage.keys import TenantPartitioned
from chalicelib.jobs.schemas import ExecutionStatus


class JobDueIndex(DueIndex["JobModel"]):
    """Jobs the schedule has work for: expiry at `due_at`, or an unfinished sweep (due at once).

    Only jobs with open executions carry `due_shard`; keys only, so the counter updates
    of the hot path never write to it.
    """

    Meta = index_meta("due", KeysOnlyProjection())


class ContinuousIndex(GlobalSecondaryIndex["JobModel"]):
    """Running continuous jobs by target (`tenant#group#id` or `tenant#all`); sparse, keys only."""

    Meta = index_meta("continuous", KeysOnlyProjection())

    continuous_key = UnicodeAttribute(hash_key=True)
    job_id = UnicodeAttribute(range_key=True)


class JobCounts:
    """What the job item and each of its counter shards (see counter_store) carry under the same names.

    One counter per execution status, plus open = queued + in progress, which a condition
    expression can test (it cannot add two attributes); and the fence (status, the kind of
    bulk change in progress, expiry), what decides whether the job still accepts device
    writes, so one condition builder serves both.
    """

    n_queued = NumberAttribute(default=0)
    n_in_progress = NumberAttribute(default=0)
    n_succeeded = NumberAttribute(default=0)
    n_failed = NumberAttribute(default=0)
    n_rejected = NumberAttribute(default=0)
    n_timed_out = NumberAttribute(default=0)
    open_count = NumberAttribute(default=0)
    status = UnicodeAttribute()
    sweep = UnicodeAttribute(null=True)
    expires_at = UTCDateTimeAttribute()


class JobModel(TenantPartitioned, JobCounts, DueKeys, Model):
    """One job of one tenant; job_id is a ULID so a Query lists newest first.

    Its counters, status, sweep kind and expiry are declared on JobCounts, `due_shard`/`due_at` on DueKeys.
    """

    Meta = table_meta("jobs")

    job_id = UnicodeAttribute(range_key=True)
    document_type = UnicodeAttribute()
    document_params = JSONAttribute(default=dict)
    target_type = UnicodeAttribute()
    target_id = UnicodeAttribute(null=True)
    execution_count = NumberAttribute()
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(null=True)
    completed_at = UTCDateTimeAttribute(null=True)
    canceled_at = UTCDateTimeAttribute(null=True)
    client_token = UnicodeAttribute(null=True)
    # A bulk change in progress (its kind is `sweep`): id (marks the executions it wrote), last device done.
    sweep_id = UnicodeAttribute(null=True)
    sweep_cursor = UnicodeAttribute(null=True)
    due = JobDueIndex()
    # Counter shards of device writes (see counter_store); absent: counters on this item only.
    counter_shards = NumberAttribute(null=True)
    # Rollout, abort and timeout options as given; the rollout's progress.
    options = JSONAttribute(null=True)
    released_count = NumberAttribute(null=True)
    release_cursor = UnicodeAttribute(null=True)
    released_at = UTCDateTimeAttribute(null=True)
    rate_now = NumberAttribute(null=True)
    rate_mark = NumberAttribute(null=True)
    aborted = BooleanAttribute(null=True)
    abort_criterion = JSONAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    continuous_key = UnicodeAttribute(null=True)
    continuous = ContinuousIndex()


COUNTERS: dict[ExecutionStatus, NumberAttribute] = {
    ExecutionStatus.QUEUED: JobCounts.n_queued,
    ExecutionStatus.IN_PROGRESS: JobCounts.n_in_progress,
    ExecutionStatus.SUCCEEDED: JobCounts.n_succeeded,
    ExecutionStatus.FAILED: JobCounts.n_failed,
    ExecutionStatus.REJECTED: JobCounts.n_rejected,
    ExecutionStatus.TIMED_OUT: JobCounts.n_timed_out,
}


def counter_actions(deltas: dict[ExecutionStatus, int], open_delta: int) -> list[Action]:
    """ADD actions for per-status counter changes, on the job item or a shard (commutative, so writers compose)."""
    actions: list[Action] = [COUNTERS[s].add(d) for s, d in deltas.items() if d]
    if open_delta:
        actions.append(JobCounts.open_count.add(open_delta))
    return actions
