"""Continuous jobs: a device that joins the target group (or the fleet) while the job runs gets an execution."""
from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.observability.log import logger
from chalicelib.core.storage.base import connection
from chalicelib.jobs.execution_store import ExecutionModel, device_key, job_key
from chalicelib.jobs.notify import JobNotifier
from chalicelib.jobs.schemas import ExecutionStatus, JobStatus
from chalicelib.jobs.store import JobModel, JobRepository, JobState, continuous_key
from chalicelib.jobs.targets import TargetReader


class ContinuousJobs:
    """Adds executions to running continuous jobs when their target gains a device."""

    def __init__(self, jobs: JobRepository, targets: TargetReader, notifier: JobNotifier,
                 clock: Clock = utcnow) -> None:
        self._jobs = jobs
        self._targets = targets
        self._notifier = notifier
        self._clock = clock

    def device_joined(self, tenant_id: str, device_id: str, group_id: str | None = None) -> list[str]:
        """Queue the device in each running continuous job of the group (or of the fleet when no group)."""
        return self.devices_joined(tenant_id, [device_id], group_id).get(device_id, [])

    def devices_joined(self, tenant_id: str, device_ids: list[str],
                       group_id: str | None = None) -> dict[str, list[str]]:
        """Queue many devices that joined at once (an import): one Query for the jobs, work only if any runs.

        Returns device_id -> the jobs it joined.
        """
        key = continuous_key(tenant_id, "group" if group_id else "all", group_id)
        job_ids = [m.job_id for m in JobModel.continuous.query(key)]
        enabled = self._targets.enabled(tenant_id, device_ids) if job_ids and device_ids else []
        joined: dict[str, list[str]] = {}
        now = self._clock()
        for job_id in job_ids if enabled else []:
            state = self._jobs.find(tenant_id, job_id)
            if state is None or state.job.status is not JobStatus.IN_PROGRESS or state.sweep is not None:
                continue
            queued = [d for d in enabled if self._queue(state, d, now)]
            for device_id in queued:
                joined.setdefault(device_id, []).append(job_id)
            if queued:
                self._notifier.notify(state.job, queued)
        return joined

    @staticmethod
    def _queue(state: JobState, device_id: str, now: datetime) -> bool:
        """The execution and the job's counts in one transaction; False if the device had one or the job ended."""
        job = state.job
        execution = ExecutionModel(
            job_key(job.tenant_id, job.job_id), device_id, tenant_id=job.tenant_id, job_id=job.job_id,
            status=ExecutionStatus.QUEUED.value, status_details={}, execution_number=1, version_number=1,
            queued_at=now, updated_at=now, pending_key=device_key(job.tenant_id, device_id), joined=True)
        actions: list[Action] = [JobModel.execution_count.add(1), JobModel.n_queued.add(1),
                                 JobModel.open_count.add(1)]
        if job.rollout is not None:  # joiners are not rate limited: they count as released at once
            actions.append(JobModel.released_count.add(1))
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(execution, condition=ExecutionModel.device_id.does_not_exist())
                tx.update(JobModel(job.tenant_id, job.job_id), actions=actions,
                          condition=(JobModel.status == JobStatus.IN_PROGRESS.value) & JobModel.sweep.does_not_exist()
                          & (JobModel.expires_at > now) & JobModel.continuous_key.exists())
        except TransactWriteError:
            logger.info("device not queued in continuous job", tenant=job.tenant_id, device=device_id,
                        job_id=job.job_id, outcome="skipped")
            return False
        return True
