"""Operator use cases of jobs: create (snapshot and fan-out), list, describe, cancel."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import timedelta

from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.delivery import DocumentResolver, NoReferences
from chalicelib.core.errors import Conflict, DomainError, InvalidInput, NotFound, PayloadTooLarge
from chalicelib.core.ids import new_id
from chalicelib.core.messaging.base import Publisher
from chalicelib.core.observability.log import logger
from chalicelib.core.observability.metrics import metrics
from chalicelib.core.policies import JobLimits
from chalicelib.core.storage.cursors import Page
from chalicelib.core.storage.idempotency import ClaimState, IdempotencyStore, fingerprint
from chalicelib.core.sweep import schedule_shard
from chalicelib.devices.schemas import DeviceStatus
from chalicelib.devices.store import DeviceRepository
from chalicelib.groups.store import GroupRepository
from chalicelib.jobs.execution_store import ExecutionRepository
from chalicelib.jobs.notify import JobNotifier, NotifyLimits
from chalicelib.jobs.rollout import RolloutProgress
from chalicelib.jobs.schemas import CreateJob, Execution, ExecutionStatus, Job, JobStatus, SweepKind, TargetType
from chalicelib.jobs.store import JobRepository
from chalicelib.jobs.sweeps import JobSweeper
from chalicelib.jobs.targets import TargetReader

IDEMPOTENCY_SCOPE = "jobs"


@dataclass(frozen=True)
class Created:
    """A created job; `replayed` when a client_token named an earlier one."""

    job: Job
    replayed: bool = False


class JobService:
    """Jobs of a tenant. Every call is scoped by the caller's tenant."""

    def __init__(self, jobs: JobRepository, executions: ExecutionRepository, devices: DeviceRepository,
                 groups: GroupRepository, targets: TargetReader, idempotency: IdempotencyStore,
                 publisher: Publisher, sweeper: JobSweeper, limits: JobLimits, clock: Clock = utcnow,
                 references: DocumentResolver | None = None) -> None:
        self._jobs = jobs
        self._references = references or NoReferences()
        self._executions = executions
        self._devices = devices
        self._groups = groups
        self._targets = targets
        self._idempotency = idempotency
        self._sweeper = sweeper
        self._limits = limits
        self._clock = clock
        self._notifier = JobNotifier(jobs, executions, publisher,
                                     NotifyLimits(limits.notify_full_list_max, limits.pending_limit,
                                                  limits.fanout_workers, limits.aws_iot_topics), clock,
                                     references=self._references)

    def create(self, tenant_id: str, request: CreateJob, created_by: str | None = None) -> Created:
        """Snapshot the targets, queue one execution each, then store the job and notify the devices.

        The job item is written last: until it exists, devices neither list nor update the
        executions, so a create that dies half-way leaves nothing visible, and a retry with
        the same client_token (once the dead attempt's lease ran out) finishes it under the
        same job id.
        """
        hours = self._check(request)
        now = self._clock()
        expires_at = now + timedelta(hours=hours)
        # A reference (a firmware image) must be the tenant's and usable; it is kept until the job expires.
        self._references.hold(tenant_id, request.document_params, expires_at)
        job_id, resumed = new_id(), False
        token = request.client_token
        if token:
            claim = self._idempotency.begin(
                IDEMPOTENCY_SCOPE, tenant_id, token, job_id, fingerprint(request.fingerprint_source()), now,
                timedelta(seconds=self._limits.create_lease_s), expires_at + timedelta(days=7))
            job_id, resumed = claim.resource_id, claim.state is not ClaimState.NEW
            existing = self._jobs.find(tenant_id, job_id) if resumed else None
            if existing is not None:
                self._idempotency.complete(IDEMPOTENCY_SCOPE, tenant_id, token)
                return Created(existing.job, replayed=True)
        started = time.monotonic()
        try:
            target_type, target_id, device_ids = self._snapshot(tenant_id, request)
        except DomainError:
            if token and not resumed:
                self._idempotency.release(IDEMPOTENCY_SCOPE, tenant_id, token)
            raise
        if resumed:
            # The attempt that died may have queued devices this snapshot no longer has.
            self._executions.remove_except(tenant_id, job_id, set(device_ids))
        snapshot_s = time.monotonic() - started
        released, held = _first_release(request, device_ids)
        try:
            stats = self._executions.create_all(tenant_id, job_id, device_ids, now, frozenset(held))
            if self._limits.counter_shards:
                self._jobs.counters.create(tenant_id, job_id, self._limits.counter_shards, expires_at)
        except Exception:
            if token:
                # Nothing is running for this token any more: a retry may resume straight away.
                self._idempotency.abandon(IDEMPOTENCY_SCOPE, tenant_id, token, claim, self._clock())
            raise
        fanout_s = time.monotonic() - started - snapshot_s
        job = Job(
            tenant_id=tenant_id, job_id=job_id, document_type=request.document_type,
            document_params=request.document_params, target_type=target_type, target_id=target_id,
            status=JobStatus.IN_PROGRESS, execution_count=len(device_ids),
            counts={s: (len(device_ids) if s is ExecutionStatus.QUEUED else 0) for s in ExecutionStatus},
            created_at=now, created_by=created_by, expires_at=expires_at, client_token=token,
            target_selection=request.target_selection, rollout=request.rollout, abort=request.abort,
            in_progress_timeout_minutes=request.in_progress_timeout_minutes,
            rollout_progress=RolloutProgress(held=len(held), released=len(released), released_at=now,
                                             rate_per_minute=request.rollout.first_rate()) if request.rollout else None,
        )
        created = self._jobs.put(job, schedule_shard(job_id, self._limits.shards), self._limits.counter_shards,
                                 released[-1] if request.rollout and released else None)
        if token:
            self._idempotency.complete(IDEMPOTENCY_SCOPE, tenant_id, token)
        if not created:
            return Created(self._jobs.get(tenant_id, job_id).job, replayed=True)
        notified = self._notifier.notify(job, released)
        metrics.count("JobsCreated")
        metrics.count("JobExecutionsQueued", len(device_ids))
        logger.info("job created", tenant=tenant_id, job_id=job_id, executions=len(device_ids),
                    batch_requests=stats.requests, notified=notified, snapshot_s=round(snapshot_s, 3),
                    fanout_s=round(fanout_s, 3), notify_s=round(time.monotonic() - started - snapshot_s - fanout_s, 3),
                    outcome="in_progress")
        return Created(job)

    def get(self, tenant_id: str, job_id: str) -> Job:
        """One job with its per-status counts (404 for foreign or missing)."""
        return self._jobs.get(tenant_id, job_id).job

    def list_page(self, tenant_id: str, status: JobStatus | None, limit: int, next_token: str | None) -> Page[Job]:
        """A page of jobs, newest first."""
        return self._jobs.list_page(tenant_id, status, limit, next_token)

    def executions(self, tenant_id: str, job_id: str, limit: int, next_token: str | None) -> Page[Execution]:
        """A page of a job's executions, in device id order."""
        return self._executions.page(tenant_id, job_id, limit, next_token)

    def cancel(self, tenant_id: str, job_id: str) -> Job:
        """Cancel: the job is CANCELED at once, its QUEUED executions become REJECTED.

        Rejecting runs in chunks within a time budget; what is left, the per-minute
        schedule finishes from where this call stopped. In-progress executions may finish.
        """
        state = self._jobs.begin_sweep(tenant_id, job_id, SweepKind.CANCEL, new_id(), self._clock())
        try:
            self._sweeper.continue_sweep(state, time.monotonic() + self._limits.cancel_budget_s, self._clock())
        except Exception:  # the cancel is committed; the schedule resumes the sweep
            logger.exception("cancel sweep interrupted; the schedule resumes it", tenant=tenant_id, job_id=job_id,
                             outcome="interrupted")
        return self._jobs.get(tenant_id, job_id).job

    def _check(self, request: CreateJob) -> int:
        given = request.targets_given()
        if len(given) != 1:
            raise InvalidInput("exactly one of target_device_id, target_group_id, target_all: true is required",
                               field="target", given=given)
        if request.target_selection == "CONTINUOUS" and request.target_device_id is not None:
            raise InvalidInput("a CONTINUOUS job targets a group or the whole fleet", field="target_selection")
        hours = request.expires_in_hours or self._limits.ttl_default_h
        if hours > self._limits.ttl_max_h:
            raise InvalidInput(f"expires_in_hours must be at most {self._limits.ttl_max_h}",
                               field="expires_in_hours", limit=self._limits.ttl_max_h)
        size = len(json.dumps(request.document_params, separators=(",", ":")))
        if size > self._limits.document_max_bytes:
            raise PayloadTooLarge(f"document_params exceeds {self._limits.document_max_bytes} bytes",
                                  field="document_params", limit=self._limits.document_max_bytes)
        return hours

    def _snapshot(self, tenant_id: str, request: CreateJob) -> tuple[TargetType, str | None, list[str]]:
        """(target type, target id, device ids) frozen at creation; disabled devices are left out."""
        if request.target_device_id is not None:
            device_id = request.target_device_id
            try:
                device = self._devices.get(tenant_id, device_id)
            except NotFound as exc:
                raise NotFound(f"device {device_id} not found", field="target_device_id") from exc
            if device.status is DeviceStatus.DISABLED:
                raise Conflict(f"device {device_id} is disabled", field="target_device_id")
            return "device", device_id, [device_id]
        if request.target_group_id is not None:
            group_id = request.target_group_id
            try:
                self._groups.get(tenant_id, group_id)
            except NotFound as exc:
                raise NotFound(f"group {group_id} not found", field="target_group_id") from exc
            ids = self._targets.snapshot(tenant_id, self._groups.iter_members(tenant_id, group_id))
            if not ids and request.target_selection == "SNAPSHOT":
                raise InvalidInput(f"group {group_id} has no enabled devices", field="target_group_id")
            return "group", group_id, ids
        ids = self._targets.enabled_in_tenant(tenant_id)
        if not ids and request.target_selection == "SNAPSHOT":
            raise InvalidInput("the tenant has no enabled devices", field="target_all")
        return "all", None, ids


def _first_release(request: CreateJob, device_ids: list[str]) -> tuple[list[str], list[str]]:
    """(released now, held) in device id order, the order the rollout releases them in."""
    if request.rollout is None:
        return device_ids, []
    ordered = sorted(device_ids)
    rate = request.rollout.first_rate()
    return ordered[:rate], ordered[rate:]
