"""The jobs table: one item per job, with per-status counters and sweep progress."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.storage.base import index_meta, table_meta
from chalicelib.core.storage.cursors import Page, cursor_keys, decode_cursor, encode_cursor, one_page
from chalicelib.core.storage.errors import is_condition_failure, written
from chalicelib.jobs.schemas import ExecutionStatus, Job, JobStatus, SweepKind


class JobDueIndex(GlobalSecondaryIndex["JobModel"]):
    """Jobs the schedule has work for: expiry at `due_at`, or an unfinished sweep (due at once).

    Sparse (only jobs with open executions carry `due_shard`) and keys-only, so the
    counter updates of the hot path never write to it.
    """

    Meta = index_meta("due", KeysOnlyProjection())

    due_shard = NumberAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class JobModel(Model):
    """One job of one tenant; job_id is a ULID so a Query lists newest first."""

    Meta = table_meta("jobs")

    tenant_id = UnicodeAttribute(hash_key=True)
    job_id = UnicodeAttribute(range_key=True)
    document_type = UnicodeAttribute()
    document_params = JSONAttribute(default=dict)
    target_type = UnicodeAttribute()
    target_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    execution_count = NumberAttribute()
    # One counter per execution status, plus open = queued + in progress, which a
    # condition expression can test (it cannot add two attributes).
    n_queued = NumberAttribute(default=0)
    n_in_progress = NumberAttribute(default=0)
    n_succeeded = NumberAttribute(default=0)
    n_failed = NumberAttribute(default=0)
    n_rejected = NumberAttribute(default=0)
    n_timed_out = NumberAttribute(default=0)
    open_count = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(null=True)
    expires_at = UTCDateTimeAttribute()
    completed_at = UTCDateTimeAttribute(null=True)
    canceled_at = UTCDateTimeAttribute(null=True)
    client_token = UnicodeAttribute(null=True)
    # A bulk change in progress: kind, id (marks the executions it wrote), last device done.
    sweep = UnicodeAttribute(null=True)
    sweep_id = UnicodeAttribute(null=True)
    sweep_cursor = UnicodeAttribute(null=True)
    due_shard = NumberAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)
    due = JobDueIndex()


COUNTERS: dict[ExecutionStatus, NumberAttribute] = {
    ExecutionStatus.QUEUED: JobModel.n_queued,
    ExecutionStatus.IN_PROGRESS: JobModel.n_in_progress,
    ExecutionStatus.SUCCEEDED: JobModel.n_succeeded,
    ExecutionStatus.FAILED: JobModel.n_failed,
    ExecutionStatus.REJECTED: JobModel.n_rejected,
    ExecutionStatus.TIMED_OUT: JobModel.n_timed_out,
}


@dataclass(frozen=True)
class JobState:
    """A job plus the bookkeeping the execution writes and sweeps condition on."""

    job: Job
    open_count: int
    sweep: SweepKind | None
    sweep_id: str | None
    sweep_cursor: str | None
    due_shard: int | None


def to_state(m: JobModel) -> JobState:
    """The record and bookkeeping of a stored job."""
    job = Job(
        tenant_id=m.tenant_id, job_id=m.job_id, document_type=m.document_type,
        document_params=m.document_params or {}, target_type=m.target_type,  # type: ignore[arg-type]
        target_id=m.target_id, status=JobStatus(m.status), execution_count=int(m.execution_count),
        counts={s: int(getattr(m, attr.attr_name) or 0) for s, attr in COUNTERS.items()},
        created_at=m.created_at, created_by=m.created_by, expires_at=m.expires_at,
        completed_at=m.completed_at, canceled_at=m.canceled_at, client_token=m.client_token,
        sweep_pending=m.sweep is not None,
    )
    return JobState(job, int(m.open_count or 0), SweepKind(m.sweep) if m.sweep else None, m.sweep_id,
                    m.sweep_cursor, int(m.due_shard) if m.due_shard is not None else None)


def counter_actions(deltas: dict[ExecutionStatus, int], open_delta: int) -> list[Action]:
    """ADD actions for per-status counter changes (commutative, so concurrent writers compose)."""
    actions: list[Action] = [COUNTERS[s].add(d) for s, d in deltas.items() if d]
    if open_delta:
        actions.append(JobModel.open_count.add(open_delta))
    return actions


class JobRepository:
    """Reads and writes of job items (executions live in job_executions)."""

    def put(self, job: Job, due_shard: int) -> bool:
        """Store a new job with all executions queued; False when the id exists already."""
        model = JobModel(
            job.tenant_id, job.job_id, document_type=job.document_type, document_params=job.document_params,
            target_type=job.target_type, target_id=job.target_id, status=job.status.value,
            execution_count=job.execution_count, n_queued=job.execution_count, open_count=job.execution_count,
            created_at=job.created_at, created_by=job.created_by, expires_at=job.expires_at,
            client_token=job.client_token, due_shard=due_shard, due_at=job.expires_at,
        )
        return written(lambda: model.save(condition=JobModel.job_id.does_not_exist()))

    def find(self, tenant_id: str, job_id: str) -> JobState | None:
        """A job of the tenant (strongly consistent), or None."""
        try:
            return to_state(JobModel.get(tenant_id, job_id, consistent_read=True))
        except DoesNotExist:
            return None

    def get(self, tenant_id: str, job_id: str) -> JobState:
        """A job of the tenant, or NotFound (foreign ids included)."""
        state = self.find(tenant_id, job_id)
        if state is None:
            raise NotFound(f"job {job_id} not found", field="job_id")
        return state

    def list_page(self, tenant_id: str, status: JobStatus | None, limit: int, next_token: str | None) -> Page[Job]:
        """Newest first, optionally one status (a filter: a tenant's jobs are one partition)."""
        start = decode_cursor(next_token, partition=("tenant_id", tenant_id), keys=cursor_keys(JobModel))
        if status is None:
            result = JobModel.query(tenant_id, scan_index_forward=False, limit=limit, page_size=limit,
                                    last_evaluated_key=start)
            return Page([to_state(m).job for m in result], encode_cursor(result.last_evaluated_key))
        # A status is a filter over the tenant's partition: one page per request keeps the
        # cost bounded (a short page and a next_token, as DynamoDB itself answers).
        filtered = JobModel.query(tenant_id, scan_index_forward=False, page_size=max(limit, 100),
                                  last_evaluated_key=start, filter_condition=JobModel.status == status.value)
        models, last_key = one_page(filtered, JobModel, limit)
        return Page([to_state(m).job for m in models], encode_cursor(last_key))

    def batch_get(self, tenant_id: str, job_ids: list[str]) -> dict[str, JobState]:
        """Jobs of the tenant among these ids (one request per 100)."""
        if not job_ids:
            return {}
        models = JobModel.batch_get([(tenant_id, j) for j in dict.fromkeys(job_ids)])
        return {m.job_id: to_state(m) for m in models}

    def begin_sweep(self, tenant_id: str, job_id: str, kind: SweepKind, sweep_id: str, now: datetime) -> JobState:
        """Mark the job as being swept; from here device writes the sweep touches are refused.

        Cancel needs an IN_PROGRESS job; expiry a job past its expiry with open executions.
        Either needs no other sweep running. The job becomes due at once, so the schedule
        resumes the sweep if this invocation dies.
        """
        actions: list[Action] = [JobModel.sweep.set(kind.value), JobModel.sweep_id.set(sweep_id),
                                 JobModel.sweep_cursor.set(""), JobModel.due_at.set(now)]
        condition: Condition = JobModel.sweep.does_not_exist() & JobModel.due_shard.exists()
        if kind is SweepKind.CANCEL:
            actions += [JobModel.status.set(JobStatus.CANCELED.value), JobModel.canceled_at.set(now)]
            condition &= JobModel.status == JobStatus.IN_PROGRESS.value
        else:
            condition &= (JobModel.expires_at <= now) & (JobModel.open_count > 0)
        model = JobModel(tenant_id, job_id)
        try:
            model.update(actions=actions, condition=condition & JobModel.job_id.exists())
        except UpdateError as exc:
            if not is_condition_failure(exc):
                raise
            current = self.get(tenant_id, job_id)
            doing = {SweepKind.CANCEL: "being canceled", SweepKind.EXPIRE: "expiring"}
            raise Conflict(f"job {job_id} is {current.job.status.value}"
                           + (f" and {doing[current.sweep]}" if current.sweep else ""),
                           field="job_id", status=current.job.status.value) from exc
        return to_state(model)

    def advance_sweep(self, state: JobState, cursor_to: str | None, deltas: dict[ExecutionStatus, int],
                      open_delta: int, now: datetime) -> bool:
        """Count one chunk and move the cursor past it; `cursor_to` None finishes the sweep.

        Conditional on the cursor still being where this chunk started, so a chunk is
        counted exactly once however many invocations process it.
        """
        job = state.job
        actions = counter_actions(deltas, open_delta)
        if cursor_to is not None:
            actions.append(JobModel.sweep_cursor.set(cursor_to))
        else:
            actions += [JobModel.sweep.remove(), JobModel.sweep_id.remove(), JobModel.sweep_cursor.remove()]
            if state.sweep is SweepKind.EXPIRE and job.status is JobStatus.IN_PROGRESS:
                actions += [JobModel.status.set(JobStatus.COMPLETED.value), JobModel.completed_at.set(now)]
            if state.sweep is SweepKind.CANCEL and state.open_count + open_delta > 0:
                # Executions still in progress may finish; expiry times out those that don't.
                actions.append(JobModel.due_at.set(job.expires_at))
            else:
                actions += [JobModel.due_shard.remove(), JobModel.due_at.remove()]
        return written(lambda: JobModel(job.tenant_id, job.job_id).update(
            actions=actions,
            condition=(JobModel.sweep_id == state.sweep_id) & (JobModel.sweep_cursor == (state.sweep_cursor or "")),
        ))

    def settle_due(self, tenant_id: str, job_id: str) -> bool:
        """Take a job with nothing left open out of the due index."""
        return written(lambda: JobModel(tenant_id, job_id).update(
            actions=[JobModel.due_shard.remove(), JobModel.due_at.remove()],
            condition=JobModel.sweep.does_not_exist() & (JobModel.open_count == 0) & JobModel.due_shard.exists(),
        ))

    def backdate_expiry(self, tenant_id: str, job_id: str, expires_at: datetime) -> JobState:
        """Move an IN_PROGRESS job's expiry and its due-index entry together (developer tool).

        Raises NotFound, or Conflict when the job is final or a sweep is running; nothing changes then.
        """
        model = JobModel(tenant_id, job_id)
        try:
            # The sweep finds expired jobs by due_at alone: both must move in the same write.
            model.update(actions=[JobModel.expires_at.set(expires_at), JobModel.due_at.set(expires_at)],
                         condition=(JobModel.status == JobStatus.IN_PROGRESS.value)
                         & JobModel.sweep.does_not_exist() & JobModel.due_shard.exists())
        except UpdateError as exc:
            if not is_condition_failure(exc):
                raise
            current = self.get(tenant_id, job_id)
            busy = f" and a {current.sweep.value} sweep is running" if current.sweep else ""
            raise Conflict(f"job {job_id} is {current.job.status.value}{busy}; only an IN_PROGRESS job with "
                           "no sweep running can be back-dated", field="job_id",
                           status=current.job.status.value) from exc
        return to_state(model)

    def due(self, shard: int, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(tenant_id, job_id) of jobs in one shard due at or before `now`, oldest first."""
        return [(m.tenant_id, m.job_id) for m in JobModel.due.query(shard, JobModel.due_at <= now, limit=limit)]
