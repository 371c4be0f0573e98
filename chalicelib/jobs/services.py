"""The jobs feature's long-lived objects, built on first use from the core (see core/feature.py).

Each is built on first use and imports its module then, so a function that never touches
jobs never loads them.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.core.delivery import References

if TYPE_CHECKING:
    from chalicelib.core.feature import Core
    from chalicelib.jobs.continuous import ContinuousJobs
    from chalicelib.jobs.execution_store import ExecutionRepository
    from chalicelib.jobs.executions import ExecutionService, UpdateListener
    from chalicelib.jobs.notify import JobNotifier
    from chalicelib.jobs.progress import JobProgress
    from chalicelib.jobs.release import RolloutReleaser
    from chalicelib.jobs.service import JobService
    from chalicelib.jobs.store import JobRepository
    from chalicelib.jobs.sweeps import JobSweeper
    from chalicelib.jobs.timeouts import JobTimeouts


@dataclass(frozen=True)
class JobHooks:
    """Who hears of every applied execution update (AWS IoT's jobs events, where served); wired by the
    composition root."""

    on_updated: UpdateListener | None = None


class JobServices:
    """Jobs, executions, rollouts, timeouts and continuous jobs."""

    def __init__(self, core: Core) -> None:
        self._core = core

    @cached_property
    def job_repository(self) -> JobRepository:
        from chalicelib.jobs.store import JobRepository
        return JobRepository()

    @cached_property
    def execution_repository(self) -> ExecutionRepository:
        from chalicelib.core.storage.batch import BatchWriter, model_sender
        from chalicelib.jobs.execution_store import ExecutionModel, ExecutionRepository
        workers = self._core.settings.jobs.fanout_workers
        return ExecutionRepository(BatchWriter(model_sender(ExecutionModel), workers=workers))

    @cached_property
    def job_sweeper(self) -> JobSweeper:
        from chalicelib.jobs.sweeps import JobSweeper
        limits = self._core.settings.jobs
        return JobSweeper(self.job_repository, self.execution_repository, limits.shards, limits.sweep_chunk,
                          releaser=self.rollout_releaser)

    @cached_property
    def job_service(self) -> JobService:
        from chalicelib.devices.services import DeviceServices
        from chalicelib.groups.services import GroupServices
        from chalicelib.jobs.service import JobService
        from chalicelib.jobs.targets import TargetReader
        limits, core = self._core.settings.jobs, self._core
        return JobService(self.job_repository, self.execution_repository, core.of(DeviceServices).device_repository,
                          core.of(GroupServices).group_repository, TargetReader(limits.fanout_workers),
                          core.idempotency_store, core.publisher, self.job_sweeper, limits,
                          references=core.of(References).resolver)

    @cached_property
    def execution_service(self) -> ExecutionService:
        from datetime import timedelta

        from chalicelib.jobs.executions import ExecutionService
        from chalicelib.jobs.known import KnownStates
        settings = self._core.settings
        known = KnownStates(self.job_repository, timedelta(seconds=settings.jobs.state_cache_s))
        return ExecutionService(self.job_repository, self.execution_repository, settings.jobs.pending_limit,
                                on_updated=self._core.of(JobHooks).on_updated,
                                on_progress=self.job_progress.after_change, timeout_shards=settings.jobs.shards,
                                references=self._core.of(References).resolver,
                                known=known if settings.jobs.state_cache_s > 0 else None)

    @cached_property
    def job_notifier(self) -> JobNotifier:
        from chalicelib.jobs.notify import JobNotifier, NotifyLimits
        limits = self._core.settings.jobs
        return JobNotifier(self.job_repository, self.execution_repository, self._core.publisher,
                           NotifyLimits(limits.notify_full_list_max, limits.pending_limit, limits.fanout_workers,
                                        limits.aws_iot_topics), references=self._core.of(References).resolver)

    @cached_property
    def rollout_releaser(self) -> RolloutReleaser:
        from chalicelib.jobs.release import RolloutReleaser
        return RolloutReleaser(self.job_repository, self.execution_repository, self.job_notifier)

    @cached_property
    def job_progress(self) -> JobProgress:
        """Completion of sharded jobs, abort thresholds and releases after each execution change."""
        from chalicelib.jobs.progress import JobProgress
        return JobProgress(self.job_repository, self.job_sweeper, self.rollout_releaser,
                           self._core.settings.jobs.cancel_budget_s)

    @cached_property
    def job_timeouts(self) -> JobTimeouts:
        from chalicelib.jobs.timeouts import JobTimeouts
        return JobTimeouts(self.execution_repository, self.execution_service, self._core.settings.jobs.shards)

    @cached_property
    def continuous_jobs(self) -> ContinuousJobs:
        from chalicelib.jobs.continuous import ContinuousJobs
        from chalicelib.jobs.targets import TargetReader
        reader = TargetReader(self._core.settings.jobs.fanout_workers)
        return ContinuousJobs(self.job_repository, reader, self.job_notifier)
