"""Reads and writes of job executions (the model is in execution_model), keeping job counters exact."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactGet, TransactWrite

from chalicelib.core.storage.base import connection
from chalicelib.core.storage.batch import BatchStats, BatchWriter, RawItem
from chalicelib.core.storage.cursors import Page, query_page
from chalicelib.core.storage.errors import failed_conditions
from chalicelib.core.storage.keys import split_tenant_key
from chalicelib.jobs.counter_store import (
    CounterRepository,
    JobCounterModel,
    counter_key,
    pick_shard,
)
from chalicelib.jobs.execution_model import ExecutionModel, device_key, job_key
from chalicelib.jobs.execution_records import PendingEntry, SweptExecution, WriteOutcome
from chalicelib.jobs.job_model import JobCounts
from chalicelib.jobs.rules import FINAL
from chalicelib.jobs.schemas import Execution, ExecutionStatus, JobStatus, SweepKind
from chalicelib.jobs.store import JobModel, JobState, counter_actions, to_state

__all__ = ["ExecutionModel", "ExecutionRepository", "PendingEntry", "SweptExecution", "WriteOutcome", "device_key",
           "job_accepts_condition", "job_key"]


class ExecutionRepository:
    """Reads and writes of executions; the only writer of job counters besides sweeps."""

    def __init__(self, writer: BatchWriter) -> None:
        self._writer = writer

    def create_all(self, tenant_id: str, job_id: str, device_ids: Iterable[str], now: datetime,
                   held: frozenset[str] = frozenset()) -> BatchStats:
        """Queue one execution per device with BatchWriteItem (25 per request); `held` ones stay unlisted."""
        key = job_key(tenant_id, job_id)
        items = (ExecutionModel(
            key, d, tenant_id=tenant_id, job_id=job_id, status=ExecutionStatus.QUEUED.value, status_details={},
            execution_number=1, version_number=1, queued_at=now, updated_at=now,
            **({"held": True} if d in held else {"pending_key": device_key(tenant_id, d)})).serialize()
            for d in device_ids)
        return self._writer.write(puts=items)

    def remove_except(self, tenant_id: str, job_id: str, keep: set[str]) -> int:
        """Delete executions of devices not in `keep` (left by an interrupted create)."""
        key = job_key(tenant_id, job_id)
        stale = [d for d in self._device_ids(key) if d not in keep]
        self._writer.write(deletes=[_raw_key(key, d) for d in stale])
        return len(stale)

    def _device_ids(self, key: str) -> Iterator[str]:
        for m in ExecutionModel.query(key, consistent_read=True, attributes_to_get=["device_id"], page_size=1000):
            yield m.device_id

    def find(self, tenant_id: str, job_id: str, device_id: str) -> Execution | None:
        """One execution, strongly consistent."""
        try:
            return ExecutionModel.get(job_key(tenant_id, job_id), device_id, consistent_read=True).to_record()
        except DoesNotExist:
            return None

    def find_with_job(self, tenant_id: str, job_id: str, device_id: str,
                      with_opens: bool = True) -> tuple[Execution | None, JobState | None]:
        """The execution and its job in one consistent TransactGetItems request, and with `with_opens` the open
        count of each counter shard (one more Query, which only a final change needs: it may complete the job)."""
        with TransactGet(connection=connection()) as tx:
            execution = tx.get(ExecutionModel, job_key(tenant_id, job_id), device_id)
            job = tx.get(JobModel, tenant_id, job_id)
        try:
            found_exec: Execution | None = execution.get().to_record()
        except ExecutionModel.DoesNotExist:
            found_exec = None
        try:
            found_job: JobState | None = to_state(job.get())
        except JobModel.DoesNotExist:
            found_job = None
        if with_opens and found_job is not None and found_job.counter_shards:
            opens = CounterRepository().opens(tenant_id, job_id, found_job.counter_shards)
            found_job = replace(found_job, open_count=found_job.open_count + sum(opens), shard_opens=opens)
        return found_exec, found_job

    def page(self, tenant_id: str, job_id: str, limit: int, next_token: str | None) -> Page[Execution]:
        """A page of a job's executions in device id order."""
        return query_page(ExecutionModel, job_key(tenant_id, job_id), limit, next_token).map(ExecutionModel.to_record)

    def pending(self, tenant_id: str, device_id: str, limit: int) -> list[PendingEntry]:
        """A device's open executions, oldest first (eventually consistent index)."""
        return [
            PendingEntry(m.job_id, ExecutionStatus(m.status), int(m.execution_number), int(m.version_number),
                         m.queued_at)
            for m in ExecutionModel.pending.query(device_key(tenant_id, device_id), limit=limit)
        ]

    def transition(self, state: JobState, current: Execution, target: ExecutionStatus,
                   details: dict[str, str] | None, now: datetime, completes_job: bool,
                   deadline: tuple[int, datetime] | None = None, assumed: bool = False) -> WriteOutcome:
        """Move one execution and the job's counters in one transaction.

        The execution is conditional on the status and version read; the job on still
        accepting this device's update (see job_accepts_condition). A final move checks
        the open counter: with `completes_job` it must be exactly 1 and the job flips to
        COMPLETED in the same write, so the flip happens once, by the last finisher.
        An `assumed` execution (known, not read) is also held to the fields the answer
        reports from it, so the answer is exact without a read.
        """
        job = state.job
        actions: list[Action] = [
            ExecutionModel.status.set(target.value), ExecutionModel.updated_at.set(now),
            ExecutionModel.version_number.set(current.version_number + 1),
        ]
        if details is not None:
            actions.append(ExecutionModel.status_details.set(details))
        if current.status is ExecutionStatus.QUEUED and target is ExecutionStatus.IN_PROGRESS:
            actions.append(ExecutionModel.started_at.set(now))
        final = target in FINAL
        if final:
            actions += [ExecutionModel.pending_key.remove(), ExecutionModel.timeout_shard.remove(),
                        ExecutionModel.timeout_at.remove()]
        elif deadline is not None:
            actions += [ExecutionModel.timeout_shard.set(deadline[0]), ExecutionModel.timeout_at.set(deadline[1])]
        deltas = {} if target is current.status else {current.status: -1, target: 1}
        exec_condition = ((ExecutionModel.status == current.status.value)
                          & (ExecutionModel.version_number == current.version_number)
                          & ExecutionModel.held.does_not_exist())
        if assumed:
            exec_condition &= _as_known(current)
        if state.counter_shards:
            complete = final and completes_job and job.status is JobStatus.IN_PROGRESS
            return self._sharded(state, current, actions, exec_condition, deltas, -1 if final else 0, now, complete)
        job_actions = counter_actions(deltas, -1 if final else 0)
        condition = job_accepts_condition(current.status, now)
        if final and job.status is JobStatus.IN_PROGRESS and job.target_selection != "CONTINUOUS":
            if completes_job:
                condition &= (JobModel.status == JobStatus.IN_PROGRESS.value) & (JobModel.open_count == 1)
                job_actions += [JobModel.status.set(JobStatus.COMPLETED.value), JobModel.completed_at.set(now),
                                JobModel.due_shard.remove(), JobModel.due_at.remove()]
            else:
                condition &= JobModel.open_count > 1
        return _with_execution(ExecutionModel(job_key(job.tenant_id, job.job_id), current.device_id), actions,
                               exec_condition, JobModel, (job.tenant_id, job.job_id), job_actions, condition)

    def _sharded(self, state: JobState, current: Execution, actions: list[Action], exec_condition: Condition,
                 deltas: dict[ExecutionStatus, int], open_delta: int, now: datetime, complete: bool) -> WriteOutcome:
        """The execution and one random counter shard; the shard's fence stands in for the job.

        The last open execution as read (`complete`) also flips the job, conditional on no
        shard and not the job item having changed its open count since: then nothing else
        is open, and the job completes in the same write as its last execution.
        """
        job = state.job
        if complete and state.shard_opens is not None:
            return self._sharded_last(state, current, actions, exec_condition, deltas, open_delta, now)
        shard = (counter_key(job.tenant_id, job.job_id), pick_shard(state.counter_shards))
        shard_update = counter_actions(deltas, open_delta)
        fence = job_accepts_condition(current.status, now, JobCounterModel)
        return _with_execution(ExecutionModel(job_key(job.tenant_id, job.job_id), current.device_id), actions,
                               exec_condition, JobCounterModel, shard, shard_update, fence)

    def _sharded_last(self, state: JobState, current: Execution, actions: list[Action], exec_condition: Condition,
                      deltas: dict[ExecutionStatus, int], open_delta: int, now: datetime) -> WriteOutcome:
        job = state.job
        opens = state.shard_opens or ()
        key = counter_key(job.tenant_id, job.job_id)
        fence = job_accepts_condition(current.status, now, JobCounterModel)
        base_open = state.open_count - sum(opens)
        try:
            with TransactWrite(connection=connection()) as tx:
                for k, n in enumerate(opens[1:], start=1):
                    tx.condition_check(JobCounterModel, key, k, condition=JobCounterModel.open_count == n)
                tx.update(ExecutionModel(job_key(job.tenant_id, job.job_id), current.device_id), actions=actions,
                          condition=exec_condition)
                tx.update(JobCounterModel(key, 0), actions=counter_actions(deltas, open_delta),
                          condition=fence & (JobCounterModel.open_count == opens[0]))
                tx.update(JobModel(job.tenant_id, job.job_id),
                          actions=[JobModel.status.set(JobStatus.COMPLETED.value), JobModel.completed_at.set(now),
                                   JobModel.due_shard.remove(), JobModel.due_at.remove()],
                          condition=(JobModel.status == JobStatus.IN_PROGRESS.value) & JobModel.sweep.does_not_exist()
                          & (JobModel.open_count == base_open) & JobModel.continuous_key.does_not_exist())
        except TransactWriteError as exc:
            if len(opens) - 1 in failed_conditions(exc):
                return WriteOutcome.EXECUTION_CHANGED
            return WriteOutcome.CONTENDED  # something moved since the read: read and decide again
        return WriteOutcome.DONE

    def timed_out(self, shard: int, now: datetime, limit: int) -> list[tuple[str, str, str]]:
        """(tenant_id, job_id, device_id) of IN_PROGRESS executions past their deadline, in one shard."""
        found = []
        for m in ExecutionModel.timeouts.query(shard, ExecutionModel.timeout_at <= now, limit=limit):
            tenant_id, job_id = split_tenant_key(m.job_key)
            found.append((tenant_id, job_id, m.device_id))
        return found

    def sweep_chunk(self, tenant_id: str, job_id: str, after: str,
                    limit: int) -> tuple[list[SweptExecution], str | None]:
        """Up to `limit` executions after device `after` ("" = start), and the cursor past them (None at the end)."""
        key = job_key(tenant_id, job_id)
        start = _raw_key(key, after) if after else None
        result = ExecutionModel.query(key, consistent_read=True, limit=limit, page_size=limit, last_evaluated_key=start)
        items = [SweptExecution(m.to_record(), m.swept_by, ExecutionStatus(m.prev_status) if m.prev_status else None,
                                bool(m.joined)) for m in result]
        more = result.last_evaluated_key is not None and bool(items)
        return items, (items[-1].execution.device_id if more else None)

    def write_swept(self, tenant_id: str, executions: list[tuple[Execution, ExecutionStatus]],
                    marker: str) -> BatchStats:
        """Batch-write executions a sweep moved; each remembers the sweep and its previous status.

        Safe without conditions only because the job's sweep state refuses every device
        write to these executions while the sweep runs.
        """
        key = job_key(tenant_id, executions[0][0].job_id) if executions else ""
        items: list[RawItem] = []
        for new, previous in executions:
            items.append(ExecutionModel(
                key, new.device_id, tenant_id=tenant_id, job_id=new.job_id, status=new.status.value,
                status_details=new.status_details, execution_number=new.execution_number,
                version_number=new.version_number, queued_at=new.queued_at, started_at=new.started_at,
                updated_at=new.updated_at, swept_by=marker, prev_status=previous.value).serialize())
        return self._writer.write(puts=items)


def _outcome(exc: TransactWriteError, job_updated: bool) -> WriteOutcome:
    reasons = [r.code for r in (exc.cancellation_reasons or []) if r is not None]
    if "TransactionConflict" in reasons:
        return WriteOutcome.CONTENDED
    failed = failed_conditions(exc)
    # Updates follow condition checks: with a bare check the job is position 0.
    exec_pos, job_pos = (0, 1) if job_updated else (1, 0)
    if exec_pos in failed:
        return WriteOutcome.EXECUTION_CHANGED
    if job_pos in failed:
        return WriteOutcome.JOB_CHANGED
    raise exc


def job_accepts_condition(current: ExecutionStatus, now: datetime, model: type[JobCounts] = JobModel) -> Condition:
    """The job states in which a device may change an execution that is `current`.

    Mirrors services.job_executions.refusal: queued work needs a live job; in-progress
    work may also finish on a canceled job (cancel only rejects queued executions), but
    never on an expired one or while the expiry sweep owns the executions.
    """
    live = model.expires_at > now
    if current is ExecutionStatus.QUEUED:
        return live & (model.status == JobStatus.IN_PROGRESS.value) & model.sweep.does_not_exist()
    return (live & model.status.is_in(JobStatus.IN_PROGRESS.value, JobStatus.CANCELED.value)
            & (model.sweep.does_not_exist() | (model.sweep == SweepKind.CANCEL.value)))


def _as_known(current: Execution) -> Condition:
    """The reported fields a version does not pin: a device's or a sweep's write moves the version, a
    continuous job re-queuing a device or the rollout releasing it does not."""
    started = (ExecutionModel.started_at == current.started_at) if current.started_at \
        else ExecutionModel.started_at.does_not_exist()
    details = (ExecutionModel.status_details == current.status_details) if current.status_details \
        else ExecutionModel.status_details.does_not_exist() | (ExecutionModel.status_details == {})
    return ((ExecutionModel.execution_number == current.execution_number)
            & (ExecutionModel.queued_at == current.queued_at) & started & details)


def _raw_key(key: str, device_id: str) -> RawItem:
    return {"job_key": {"S": key}, "device_id": {"S": device_id}}


def _with_execution(execution: ExecutionModel, actions: list[Action], exec_condition: Condition,
                    other: type[JobModel] | type[JobCounterModel], key: tuple[str, str | int],
                    other_actions: list[Action], condition: Condition) -> WriteOutcome:
    """The execution's update and, in the same transaction, the job's or a counter shard's (a check when unchanged)."""
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.update(execution, actions=actions, condition=exec_condition)
            if other_actions:
                tx.update(other(*key), actions=other_actions, condition=condition)
            else:
                tx.condition_check(other, *key, condition=condition)
    except TransactWriteError as exc:
        return _outcome(exc, bool(other_actions))
    return WriteOutcome.DONE
