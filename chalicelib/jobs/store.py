"""Reads and writes of the jobs table (the model is in job_model)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.storage.cursors import Page, query_page
from chalicelib.core.storage.errors import is_condition_failure
from chalicelib.jobs.counter_store import CounterRepository
from chalicelib.jobs.job_model import COUNTERS, JobModel, counter_actions
from chalicelib.jobs.rollout import AbortCriterion, Rollout, RolloutProgress
from chalicelib.jobs.schemas import ExecutionStatus, Job, JobStatus, SweepKind

__all__ = ["COUNTERS", "JobModel", "JobRepository", "JobState", "continuous_key", "counter_actions", "to_state"]


@dataclass(frozen=True)
class JobState:
    """A job plus the bookkeeping the execution writes and sweeps condition on."""

    job: Job
    open_count: int
    sweep: SweepKind | None
    sweep_id: str | None
    sweep_cursor: str | None
    due_shard: int | None
    counter_shards: int = 0
    release_cursor: str | None = None
    rate_mark: int = 0
    # Open count of each counter shard as read with the job (the last finisher's exact check).
    shard_opens: tuple[int, ...] | None = None


def continuous_key(tenant_id: str, target_type: str, target_id: str | None) -> str:
    """The continuous index key of a job's target."""
    return f"{tenant_id}#{target_type}#{target_id or ''}"


def to_state(m: JobModel, extra: tuple[dict[ExecutionStatus, int], int] | None = None) -> JobState:
    """The record and bookkeeping of a stored job, plus the sums of its counter shards if given."""
    options = m.options or {}
    rollout = Rollout.model_validate(options["rollout"]) if options.get("rollout") else None
    counts = {s: int(getattr(m, attr.attr_name) or 0) for s, attr in COUNTERS.items()}
    open_count = int(m.open_count or 0)
    if extra is not None:
        counts = {s: n + extra[0].get(s, 0) for s, n in counts.items()}
        open_count += extra[1]
    progress = None
    if rollout is not None:
        released = int(m.released_count or 0)
        # Once the job is final nothing is held any more: cancel and expiry moved those executions.
        held = max(0, int(m.execution_count) - released) if m.status == JobStatus.IN_PROGRESS.value else 0
        progress = RolloutProgress(held=held, released=released,
                                   rate_per_minute=int(m.rate_now or rollout.first_rate()),
                                   released_at=m.released_at)
    job = Job(
        tenant_id=m.tenant_id, job_id=m.job_id, document_type=m.document_type,
        document_params=m.document_params or {}, target_type=m.target_type,  # type: ignore[arg-type]
        target_id=m.target_id, status=JobStatus(m.status), execution_count=int(m.execution_count),
        counts=counts,
        created_at=m.created_at, created_by=m.created_by, expires_at=m.expires_at,
        completed_at=m.completed_at, canceled_at=m.canceled_at, client_token=m.client_token,
        sweep_pending=m.sweep is not None, target_selection=options.get("target_selection", "SNAPSHOT"),
        rollout=rollout, abort=[AbortCriterion.model_validate(c) for c in options.get("abort") or []] or None,
        in_progress_timeout_minutes=options.get("in_progress_timeout_minutes"), rollout_progress=progress,
        aborted=bool(m.aborted), reason=m.reason,
        abort_criterion=AbortCriterion.model_validate(m.abort_criterion) if m.abort_criterion else None,
    )
    return JobState(job, open_count, SweepKind(m.sweep) if m.sweep else None, m.sweep_id,
                    m.sweep_cursor, int(m.due_shard) if m.due_shard is not None else None,
                    int(m.counter_shards or 0), m.release_cursor, int(m.rate_mark or 0))


def job_options(job: Job) -> dict[str, Any] | None:
    """The stored options of a job (None for a plain snapshot job)."""
    options = job.model_dump(mode="json", include={"rollout", "abort", "in_progress_timeout_minutes"},
                             exclude_none=True)
    if job.target_selection != "SNAPSHOT":
        options["target_selection"] = job.target_selection
    return options or None


class JobRepository:
    """Reads and writes of job items (executions live in job_executions)."""

    def __init__(self, counters: CounterRepository | None = None) -> None:
        self.counters = counters or CounterRepository()

    def put(self, job: Job, due_shard: int, counter_shards: int = 0, release_cursor: str | None = None) -> bool:
        """Store a new job with all executions queued; False when the id exists already."""
        model = JobModel(
            job.tenant_id, job.job_id, document_type=job.document_type, document_params=job.document_params,
            target_type=job.target_type, target_id=job.target_id, status=job.status.value,
            execution_count=job.execution_count, n_queued=job.execution_count, open_count=job.execution_count,
            created_at=job.created_at, created_by=job.created_by, expires_at=job.expires_at,
            client_token=job.client_token, due_shard=due_shard, due_at=job.expires_at,
            counter_shards=counter_shards or None, options=job_options(job),
        )
        progress = job.rollout_progress
        if progress is not None:
            model.released_count, model.released_at = progress.released, progress.released_at
            model.rate_now, model.rate_mark, model.release_cursor = progress.rate_per_minute, 0, release_cursor
            if progress.held and progress.released_at is not None:
                model.due_at = min(job.expires_at, progress.released_at + timedelta(minutes=1))
        if job.target_selection == "CONTINUOUS":
            model.continuous_key = continuous_key(job.tenant_id, job.target_type, job.target_id)
        try:
            model.save(condition=JobModel.job_id.does_not_exist())
        except PutError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def find(self, tenant_id: str, job_id: str) -> JobState | None:
        """A job of the tenant (strongly consistent), or None."""
        try:
            return self._with_shards(JobModel.get(tenant_id, job_id, consistent_read=True))
        except DoesNotExist:
            return None

    def _with_shards(self, m: JobModel) -> JobState:
        if not m.counter_shards:
            return to_state(m)
        return to_state(m, self.counters.totals(m.tenant_id, m.job_id))

    def get(self, tenant_id: str, job_id: str) -> JobState:
        """A job of the tenant, or NotFound (foreign ids included)."""
        state = self.find(tenant_id, job_id)
        if state is None:
            raise NotFound(f"job {job_id} not found", field="job_id")
        return state

    def list_page(self, tenant_id: str, status: JobStatus | None, limit: int, next_token: str | None) -> Page[Job]:
        """Newest first, optionally one status (a filter: a tenant's jobs are one partition)."""
        # A status is a filter over the tenant's partition: one page per request keeps the
        # cost bounded (a short page and a next_token, as DynamoDB itself answers).
        page = query_page(JobModel, tenant_id, limit, next_token, scan_index_forward=False,
                          filter_condition=None if status is None else JobModel.status == status.value)
        return page.map(lambda m: self._with_shards(m).job)

    def batch_get(self, tenant_id: str, job_ids: list[str]) -> dict[str, JobState]:
        """Jobs of the tenant among these ids (one request per 100)."""
        if not job_ids:
            return {}
        models = JobModel.batch_get([(tenant_id, j) for j in dict.fromkeys(job_ids)])
        return {m.job_id: to_state(m) for m in models}

    def begin_sweep(self, tenant_id: str, job_id: str, kind: SweepKind, sweep_id: str, now: datetime,
                    abort: AbortCriterion | None = None, reason: str | None = None) -> JobState:
        """Mark the job as being swept; from here device writes the sweep touches are refused.

        Cancel needs an IN_PROGRESS job; expiry a job past its expiry with open executions.
        Either needs no other sweep running. The job becomes due at once, so the schedule
        resumes the sweep if this invocation dies.
        """
        actions: list[Action] = [JobModel.sweep.set(kind.value), JobModel.sweep_id.set(sweep_id),
                                 JobModel.sweep_cursor.set(""), JobModel.due_at.set(now)]
        condition: Condition = JobModel.sweep.does_not_exist() & JobModel.due_shard.exists()
        if kind is SweepKind.CANCEL:
            actions += [JobModel.status.set(JobStatus.CANCELED.value), JobModel.canceled_at.set(now),
                        JobModel.continuous_key.remove()]
            condition &= JobModel.status == JobStatus.IN_PROGRESS.value
            if abort is not None:
                actions += [JobModel.aborted.set(True), JobModel.abort_criterion.set(abort.model_dump(mode="json"))]
            if reason:
                actions.append(JobModel.reason.set(reason))
        else:
            # A sharded job's open count is spread over its shards: the caller read the sum.
            condition &= (JobModel.expires_at <= now) & ((JobModel.open_count > 0) | JobModel.counter_shards.exists())
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
        state = to_state(model)
        self.fence(state)
        return state

    def fence(self, state: JobState) -> None:
        """Copy the job's acceptance state to its counter shards (nothing for an unsharded job)."""
        job = state.job
        if state.counter_shards:
            self.counters.fence(job.tenant_id, job.job_id, state.counter_shards, job.status, state.sweep,
                                job.expires_at)

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
                actions += [JobModel.status.set(JobStatus.COMPLETED.value), JobModel.completed_at.set(now),
                            JobModel.continuous_key.remove()]
            if state.sweep is SweepKind.CANCEL and state.open_count + open_delta > 0:
                # Executions still in progress may finish; expiry times out those that don't.
                actions.append(JobModel.due_at.set(job.expires_at))
            else:
                actions += [JobModel.due_shard.remove(), JobModel.due_at.remove()]
        model = JobModel(job.tenant_id, job.job_id)
        try:
            model.update(
                actions=actions,
                condition=(JobModel.sweep_id == state.sweep_id) & (JobModel.sweep_cursor == (state.sweep_cursor or "")),
            )
        except UpdateError as exc:
            if is_condition_failure(exc):
                return False
            raise
        if cursor_to is None:
            self.fence(to_state(model))
        return True

    def settle_due(self, tenant_id: str, job_id: str) -> bool:
        """Take a job with nothing left open out of the due index."""
        try:
            JobModel(tenant_id, job_id).update(
                actions=[JobModel.due_shard.remove(), JobModel.due_at.remove()],
                condition=JobModel.sweep.does_not_exist() & JobModel.due_shard.exists()
                & ((JobModel.open_count == 0) | JobModel.counter_shards.exists()),
            )
        except UpdateError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

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
        state = to_state(model)
        self.fence(state)
        return state

    def complete(self, tenant_id: str, job_id: str, now: datetime) -> bool:
        """Flip a sharded job whose executions all finished to COMPLETED: exactly once, by condition."""
        try:
            JobModel(tenant_id, job_id).update(
                actions=[JobModel.status.set(JobStatus.COMPLETED.value), JobModel.completed_at.set(now),
                         JobModel.due_shard.remove(), JobModel.due_at.remove()],
                condition=(JobModel.status == JobStatus.IN_PROGRESS.value) & JobModel.sweep.does_not_exist()
                & JobModel.counter_shards.exists() & JobModel.continuous_key.does_not_exist())
        except UpdateError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def due(self, shard: int, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(tenant_id, job_id) of jobs in one shard due at or before `now`, oldest first."""
        return [(m.tenant_id, m.job_id) for m in JobModel.due.query(shard, JobModel.due_at <= now, limit=limit)]
