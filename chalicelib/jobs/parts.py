"""The jobs feature's long-lived objects, mixed into the composition root (chalicelib/container.py).

Like the container, each is built on first use and imports its module then, so a function
that never touches jobs never loads them.
"""
from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.aws_iot.jobs import AwsJobsService
    from chalicelib.core.config import Settings
    from chalicelib.core.delivery import DocumentResolver
    from chalicelib.core.messaging.base import Publisher
    from chalicelib.core.storage.idempotency import IdempotencyStore
    from chalicelib.devices.store import DeviceRepository
    from chalicelib.groups.store import GroupRepository
    from chalicelib.jobs.continuous import ContinuousJobs
    from chalicelib.jobs.execution_store import ExecutionRepository
    from chalicelib.jobs.executions import ExecutionService
    from chalicelib.jobs.notify import JobNotifier
    from chalicelib.jobs.progress import JobProgress
    from chalicelib.jobs.release import RolloutReleaser
    from chalicelib.jobs.service import JobService
    from chalicelib.jobs.store import JobRepository
    from chalicelib.jobs.sweeps import JobSweeper
    from chalicelib.jobs.timeouts import JobTimeouts


class JobParts:
    """Jobs, executions, rollouts, timeouts and AWS IoT's jobs topics over them."""

    settings: Settings

    if TYPE_CHECKING:  # what the container provides (see Container)
        @property
        def publisher(self) -> Publisher: ...
        @property
        def idempotency_store(self) -> IdempotencyStore: ...
        @property
        def device_repository(self) -> DeviceRepository: ...
        @property
        def group_repository(self) -> GroupRepository: ...
        @property
        def document_resolver(self) -> DocumentResolver: ...

    @cached_property
    def job_repository(self) -> JobRepository:
        from chalicelib.jobs.store import JobRepository
        return JobRepository()

    @cached_property
    def execution_repository(self) -> ExecutionRepository:
        from chalicelib.core.storage.batch import BatchWriter, model_sender
        from chalicelib.jobs.execution_store import ExecutionModel, ExecutionRepository
        return ExecutionRepository(BatchWriter(model_sender(ExecutionModel), workers=self.settings.jobs.fanout_workers))

    @cached_property
    def job_sweeper(self) -> JobSweeper:
        from chalicelib.jobs.sweeps import JobSweeper
        limits = self.settings.jobs
        return JobSweeper(self.job_repository, self.execution_repository, limits.shards, limits.sweep_chunk,
                          releaser=self.rollout_releaser)

    @cached_property
    def job_service(self) -> JobService:
        from chalicelib.jobs.service import JobService
        from chalicelib.jobs.targets import TargetReader
        limits = self.settings.jobs
        return JobService(self.job_repository, self.execution_repository, self.device_repository,
                          self.group_repository, TargetReader(limits.fanout_workers), self.idempotency_store,
                          self.publisher, self.job_sweeper, limits, references=self.document_resolver)

    @cached_property
    def execution_service(self) -> ExecutionService:
        from chalicelib.jobs.executions import ExecutionService
        # Resolved at call time: the AWS jobs service itself runs on this execution service.
        def aws_events(*change: Any) -> None:
            self.aws_jobs_service.execution_updated(*change)

        return ExecutionService(self.job_repository, self.execution_repository, self.settings.jobs.pending_limit,
                                on_updated=aws_events if self.settings.serves_aws_iot_topics() else None,
                                on_progress=self.job_progress.after_change, timeout_shards=self.settings.jobs.shards,
                                references=self.document_resolver)

    @cached_property
    def job_notifier(self) -> JobNotifier:
        from chalicelib.jobs.notify import JobNotifier, NotifyLimits
        limits = self.settings.jobs
        return JobNotifier(self.job_repository, self.execution_repository, self.publisher,
                           NotifyLimits(limits.notify_full_list_max, limits.pending_limit, limits.fanout_workers,
                                        limits.aws_iot_topics), references=self.document_resolver)

    @cached_property
    def rollout_releaser(self) -> RolloutReleaser:
        from chalicelib.jobs.release import RolloutReleaser
        return RolloutReleaser(self.job_repository, self.execution_repository, self.job_notifier)

    @cached_property
    def job_progress(self) -> JobProgress:
        """Completion of sharded jobs, abort thresholds and releases after each execution change."""
        from chalicelib.jobs.progress import JobProgress
        return JobProgress(self.job_repository, self.job_sweeper, self.rollout_releaser,
                           self.settings.jobs.cancel_budget_s)

    @cached_property
    def job_timeouts(self) -> JobTimeouts:
        from chalicelib.jobs.timeouts import JobTimeouts
        return JobTimeouts(self.execution_repository, self.execution_service, self.settings.jobs.shards)

    @cached_property
    def continuous_jobs(self) -> ContinuousJobs:
        from chalicelib.jobs.continuous import ContinuousJobs
        from chalicelib.jobs.targets import TargetReader
        return ContinuousJobs(self.job_repository, TargetReader(self.settings.jobs.fanout_workers), self.job_notifier)

    @cached_property
    def aws_jobs_service(self) -> AwsJobsService:
        """AWS IoT's jobs topics on the same executions."""
        from chalicelib.aws_iot.jobs import AwsJobsService
        return AwsJobsService(self.execution_service, self.execution_repository, self.publisher)
