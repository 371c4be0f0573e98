"""Rate-limited rollouts: release held executions minute by minute and notify their devices."""
from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from chalicelib.core.observability.log import logger
from chalicelib.core.storage.errors import is_condition_failure
from chalicelib.jobs.execution_store import ExecutionModel, ExecutionRepository, device_key, job_key
from chalicelib.jobs.notify import JobNotifier
from chalicelib.jobs.rollout import rate_now, release_due
from chalicelib.jobs.schemas import ExecutionStatus, JobStatus
from chalicelib.jobs.store import JobModel, JobRepository, JobState


class RolloutReleaser:
    """Releases the next `rate` held executions of a job once per minute, in device id order.

    The job item keeps a cursor: every execution at or before it is released. A run
    releases the chunk after the cursor (conditional per execution, so a cancel sweeping
    it wins), then moves the cursor and the counts conditional on the cursor it read, so
    a chunk is counted once however many runs process it. A run that died in between
    leaves released executions past the cursor; the next run counts them as released.
    """

    def __init__(self, jobs: JobRepository, executions: ExecutionRepository, notifier: JobNotifier) -> None:
        self._jobs = jobs
        self._executions = executions
        self._notifier = notifier

    def release(self, state: JobState, now: datetime) -> int:
        """Release this minute's share if a new minute began; returns how many devices were released."""
        job, progress = state.job, state.job.rollout_progress
        if (job.rollout is None or progress is None or not progress.held or job.status is not JobStatus.IN_PROGRESS
                or state.sweep is not None or job.expires_at <= now or not release_due(progress.released_at, now)):
            return 0
        criteria = {"notified": progress.released, "succeeded": job.counts.get(ExecutionStatus.SUCCEEDED, 0)}
        rate, mark = rate_now(job.rollout, progress.rate_per_minute, state.rate_mark, criteria)
        cursor = state.release_cursor or ""
        items, _ = self._executions.sweep_chunk(job.tenant_id, job.job_id, cursor, rate)
        released: list[str] = []
        counted = 0
        for item in items:
            execution = item.execution
            if execution.held:
                if self._unhold(job.tenant_id, job.job_id, execution.device_id):
                    released.append(execution.device_id)
                counted += 1
            elif not item.joined:  # released by a run that died before counting it
                counted += 1
        if not items:
            return 0
        held_left = progress.held - counted
        actions: list[Action] = [JobModel.released_count.add(counted), JobModel.released_at.set(now),
                                 JobModel.release_cursor.set(items[-1].execution.device_id),
                                 JobModel.rate_now.set(rate), JobModel.rate_mark.set(mark)]
        if held_left > 0:
            actions.append(JobModel.due_at.set(min(job.expires_at, now + timedelta(minutes=1))))
        else:
            actions.append(JobModel.due_at.set(job.expires_at))
        condition = (JobModel.release_cursor == cursor) if state.release_cursor else \
            JobModel.release_cursor.does_not_exist()
        # A cancel or expiry that began since the read owns the job now: its due time is not ours to move.
        condition &= (JobModel.status == JobStatus.IN_PROGRESS.value) & JobModel.sweep.does_not_exist()
        try:
            JobModel(job.tenant_id, job.job_id).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if is_condition_failure(exc):
                logger.info("rollout release counted by a concurrent run or the job ended", tenant=job.tenant_id,
                            job_id=job.job_id, outcome="skipped")
                return 0
            raise
        if released:
            self._notifier.notify(job, released)
        return len(released)

    @staticmethod
    def _unhold(tenant_id: str, job_id: str, device_id: str) -> bool:
        try:
            ExecutionModel(job_key(tenant_id, job_id), device_id).update(
                actions=[ExecutionModel.held.remove(),
                         ExecutionModel.pending_key.set(device_key(tenant_id, device_id))],
                condition=ExecutionModel.held.exists() & (ExecutionModel.status == ExecutionStatus.QUEUED.value))
        except UpdateError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True
