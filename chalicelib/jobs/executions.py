"""Device use cases of jobs: pending list, describe and update an execution (HTTP and MQTT)."""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.delivery import DocumentResolver, NoReferences
from chalicelib.core.errors import Conflict, InvalidInput, NotFound, Unavailable
from chalicelib.core.ids import is_valid_id
from chalicelib.core.observability.log import logger
from chalicelib.core.observability.metrics import metrics
from chalicelib.core.retry import RetryPolicy
from chalicelib.core.sweep import schedule_shard
from chalicelib.jobs.execution_store import PendingEntry, WriteOutcome
from chalicelib.jobs.known import KnownStates
from chalicelib.jobs.ports import ExecutionStore, JobStates
from chalicelib.jobs.rollout import timeout_at
from chalicelib.jobs.rules import FINAL, device_may_move, refusal
from chalicelib.jobs.schemas import Execution, ExecutionStatus, JobStatus, PendingJob, UpdateExecution, document
from chalicelib.jobs.store import JobState

# A device update lost to a concurrent change of its job: read, decide and write again.
CONTENTION_RETRY = RetryPolicy(min_s=0.02, max_s=2.56, max_attempts=8, jitter=1.0)
# on_updated(tenant_id, device_id, before, after): told of every applied device update.
UpdateListener = Callable[[str, str, Execution, Execution], None]
# after_change(job as read, new status, now): completion, abort and release checks.
ProgressHook = Callable[[JobState, ExecutionStatus, datetime], None]
TIMEOUT_REASON = "timed out in progress"


class ExecutionService:
    """What a device does with its job executions; HTTP routes and the MQTT router share it."""

    def __init__(self, jobs: JobStates, executions: ExecutionStore, pending_limit: int = 100,
                 clock: Clock = utcnow, sleep: Callable[[float], None] = time.sleep,
                 on_updated: UpdateListener | None = None, on_progress: ProgressHook | None = None,
                 timeout_shards: int = 1, references: DocumentResolver | None = None,
                 known: KnownStates | None = None) -> None:
        self._jobs = jobs
        self._known = known
        self._references = references or NoReferences()
        self._on_progress = on_progress
        self._timeout_shards = timeout_shards
        self._on_updated = on_updated
        self._executions = executions
        self._pending_limit = pending_limit
        self._clock = clock
        self._sleep = sleep

    def pending(self, tenant_id: str, device_id: str, exclude: str | None = None) -> list[PendingJob]:
        """QUEUED and IN_PROGRESS executions of the device, oldest first, with their documents as delivered;
        without the job `exclude` (whose job item is then not read).

        Each call resolves references anew: a device asking again after its URL expired gets a fresh one.
        """
        entries = [e for e in self._executions.pending(tenant_id, device_id, self._pending_limit)
                   if e.job_id != exclude]
        found = pending_jobs(entries, self._jobs.batch_get(tenant_id, [e.job_id for e in entries]), self._clock())
        return [p.model_copy(update={"document": self._delivered(tenant_id, device_id, p.document)}) for p in found]

    def describe(self, tenant_id: str, device_id: str, job_id: str) -> dict[str, Any]:
        """The device's execution of a job, with the job document as delivered to it now."""
        execution, state = self._load(tenant_id, device_id, job_id, with_opens=False)
        return {**execution.model_dump(mode="json"),
                "document": self._delivered(tenant_id, device_id, document(state.job))}

    def _delivered(self, tenant_id: str, device_id: str, stored: dict[str, Any]) -> dict[str, Any]:
        return self._references.resolve(tenant_id, stored, [device_id])[0]

    def update(self, tenant_id: str, device_id: str, job_id: str, request: UpdateExecution) -> Execution:
        """Apply a device's status change; 409 with the current execution when not allowed.

        Reads the execution and its job in one request, checks the transition table, then
        writes both conditionally; a concurrent change makes it read and decide again. A
        non-final change first tries without the read, on what this process knows (see
        known.py): one write when that is still true, the read and a second write when not.
        """
        assumed = self._assumed(tenant_id, device_id, job_id, request)
        for attempt in CONTENTION_RETRY.attempts():
            now = self._clock()
            if assumed is not None:
                execution, state = assumed
            else:
                execution, state = self._load(tenant_id, device_id, job_id, with_opens=request.status in FINAL)
                self._check(execution, state, request, now)
            completes = _completes(state, request.status)
            deadline = self._deadline(state, execution, request, now)
            outcome = self._executions.transition(state, execution, request.status, request.status_details, now,
                                                  completes, deadline, assumed=assumed is not None)
            if outcome is not WriteOutcome.DONE and assumed is not None:
                assumed = None  # what this process knew is stale: read and decide on the stored state
                if self._known is not None:
                    self._known.forget(tenant_id, job_id, device_id)
                continue
            if outcome is WriteOutcome.DONE:
                applied = _applied(execution, request, now)
                if deadline is not None:
                    applied = applied.model_copy(update={"timeout_at": deadline[1]})
                if self._known is not None:
                    self._known.saw(tenant_id, applied, None, now)
                _log_update(tenant_id, device_id, execution, applied, completes)
                self._notify(tenant_id, device_id, execution, applied)
                if not completes:  # a completing write flipped the job itself: nothing is left to check
                    self._progress(state, request.status, now)
                return applied
            if outcome is WriteOutcome.CONTENDED:
                self._sleep(CONTENTION_RETRY.delay(attempt))
        raise Unavailable("the job is busy; retry the update", field="job_id")

    def _assumed(self, tenant_id: str, device_id: str, job_id: str,
                 request: UpdateExecution) -> tuple[Execution, JobState] | None:
        """The execution and job as known, when a non-final change may be written on them; else None (read).

        A final change reads: it may be the job's last open execution, and then completes the job in
        the same write, which needs the open counts as stored (on counter shards, a Query of them).
        """
        if self._known is None or request.status in FINAL:
            return None
        now = self._clock()
        state = self._known.job(tenant_id, job_id, now)
        if state is None:
            return None
        execution = self._known.execution(tenant_id, state, device_id, now)
        try:
            self._check(execution, state, request, now)
        except Conflict:
            return None  # a refusal is decided on the stored state only
        return execution, state

    def time_out(self, tenant_id: str, device_id: str, job_id: str, now: datetime) -> bool:
        """TIMED_OUT for an IN_PROGRESS execution past its deadline; False when it moved on meanwhile."""
        for attempt in CONTENTION_RETRY.attempts():
            execution, state = self._executions.find_with_job(tenant_id, job_id, device_id)
            if (execution is None or state is None or execution.status is not ExecutionStatus.IN_PROGRESS
                    or execution.timeout_at is None or execution.timeout_at > now):
                return False
            details = {**execution.status_details, "reason": TIMEOUT_REASON}
            outcome = self._executions.transition(state, execution, ExecutionStatus.TIMED_OUT, details, now,
                                                  _completes(state, ExecutionStatus.TIMED_OUT))
            if outcome is WriteOutcome.DONE:
                after = execution.model_copy(update={"status": ExecutionStatus.TIMED_OUT, "status_details": details,
                                                     "version_number": execution.version_number + 1,
                                                     "updated_at": now, "timeout_at": None})
                self._notify(tenant_id, device_id, execution, after)
                self._progress(state, ExecutionStatus.TIMED_OUT, now)
                return True
            if outcome is not WriteOutcome.CONTENDED:
                return False
            self._sleep(CONTENTION_RETRY.delay(attempt))
        return False

    def _deadline(self, state: JobState, execution: Execution, request: UpdateExecution,
                  now: datetime) -> tuple[int, datetime] | None:
        """The new timeout of an IN_PROGRESS update: set when it starts and at each step timeout."""
        if request.status is not ExecutionStatus.IN_PROGRESS:
            return None
        starting = execution.status is ExecutionStatus.QUEUED
        if not starting and request.step_timeout_minutes is None:
            return None
        at = timeout_at(execution.started_at if not starting else now, now,
                        state.job.in_progress_timeout_minutes, request.step_timeout_minutes)
        if at is None:
            return None
        return schedule_shard(f"{execution.job_id}#{execution.device_id}", self._timeout_shards), at

    def _progress(self, state: JobState, target: ExecutionStatus, now: datetime) -> None:
        if self._on_progress is None:
            return
        try:
            self._on_progress(state, target, now)
        except Exception:  # the update is stored; the schedule and the next finisher catch up
            logger.warning("progress check failed", tenant=state.job.tenant_id, job_id=state.job.job_id,
                           outcome="failed", exc_info=True)

    def handle_mqtt_update(self, tenant_id: str, device_id: str, suffix: str,
                           payload: dict[str, Any]) -> dict[str, Any]:
        """Router handler for `jobs/{job_id}/update`: the same code as the PUT route."""
        job_id = suffix.split("/")[1]
        if not is_valid_id(job_id):
            raise InvalidInput("job id in topic is not valid", field="job_id")
        request = UpdateExecution.model_validate(payload)
        # Unavailable (contention) propagates: the router leaves it for the bridge to retry.
        return self.update(tenant_id, device_id, job_id, request).model_dump(mode="json")

    def _notify(self, tenant_id: str, device_id: str, before: Execution, after: Execution) -> None:
        if self._on_updated is None:
            return
        try:
            self._on_updated(tenant_id, device_id, before, after)
        except Exception:  # the update is stored: a failed event must not turn it into an error
            logger.warning("execution listener failed", tenant=tenant_id, device=device_id, job_id=after.job_id,
                           outcome="listener_failed", exc_info=True)

    def _load(self, tenant_id: str, device_id: str, job_id: str,
              with_opens: bool = True) -> tuple[Execution, JobState]:
        execution, state = self._executions.find_with_job(tenant_id, job_id, device_id, with_opens)
        # A held execution is not the device's yet: the rollout has not released it.
        if execution is None or state is None or execution.held:
            raise NotFound(f"job {job_id} has no execution for this device", field="job_id")
        if self._known is not None:
            self._known.saw(tenant_id, execution, state, self._clock())
        return execution, state

    @staticmethod
    def _check(execution: Execution, state: JobState, request: UpdateExecution, now: datetime) -> None:
        current = execution.model_dump(mode="json")
        if execution.status in FINAL:
            raise Conflict(f"execution is already {execution.status.value}", field="status", execution=current)
        if request.expected_version is not None and request.expected_version != execution.version_number:
            raise Conflict(f"expected version {request.expected_version}, current is {execution.version_number}",
                           field="expected_version", execution=current)
        if not device_may_move(execution.status, request.status):
            raise Conflict(f"cannot move from {execution.status.value} to {request.status.value}",
                           field="status", execution=current)
        reason = refusal(state.job.status, state.sweep, state.job.expires_at, execution.status, now)
        if reason:
            raise Conflict(reason, field="job_id", execution=current)


def pending_jobs(entries: list[PendingEntry], jobs: dict[str, JobState], now: datetime) -> list[PendingJob]:
    """The entries a device may still act on, with their documents, in the order given."""
    pending = []
    for entry in entries:
        state = jobs.get(entry.job_id)
        # No job item: a create that never finished. Refused: canceled or expired, being swept.
        if state is None or refusal(state.job.status, state.sweep, state.job.expires_at, entry.status, now):
            continue
        pending.append(PendingJob(job_id=entry.job_id, document=document(state.job), status=entry.status,
                                  execution_number=entry.execution_number,
                                  version_number=entry.version_number, queued_at=entry.queued_at))
    return pending


def _completes(state: JobState, target: ExecutionStatus) -> bool:
    """Whether moving to `target` would leave the job nothing open (a continuous job never completes)."""
    return (target in FINAL and state.job.status is JobStatus.IN_PROGRESS and state.open_count <= 1
            and state.job.target_selection != "CONTINUOUS")


def _applied(execution: Execution, request: UpdateExecution, now: datetime) -> Execution:
    started = execution.started_at
    if execution.status is ExecutionStatus.QUEUED and request.status is ExecutionStatus.IN_PROGRESS:
        started = now
    return execution.model_copy(update={
        "status": request.status,
        "status_details": request.status_details if request.status_details is not None else execution.status_details,
        "version_number": execution.version_number + 1,
        "started_at": started,
        "updated_at": now,
    })


def _log_update(tenant_id: str, device_id: str, before: Execution, after: Execution, completes: bool) -> None:
    """One line per execution change; final ones counted by status (how a job went, fleet-wide)."""
    if after.status in FINAL:
        metrics.count_by("JobExecutionsFinished", "status", after.status.value)
    logger.info("job execution updated", tenant=tenant_id, device=device_id, job_id=after.job_id,
                previous=before.status.value, outcome=after.status.value, version=after.version_number,
                job_completed=completes)
