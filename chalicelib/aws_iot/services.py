"""AWS IoT compatibility's long-lived objects, built on first use from the core (see core/feature.py)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.aws_iot.jobs import AwsJobsService
    from chalicelib.aws_iot.named_shadow_store import NamedShadowRepository
    from chalicelib.aws_iot.shadow import ShadowService
    from chalicelib.core.feature import Core
    from chalicelib.twin.service import WriteListener


@dataclass(frozen=True)
class ShadowHooks:
    """Who hears of a classic-shadow write made on AWS IoT's topics (the fleet's firmware versions); wired by
    the composition root."""

    on_written: WriteListener | None = None


class AwsIotServices:
    """Shadows (the classic one is the twin, named ones have their own table) and jobs topics over the jobs."""

    def __init__(self, core: Core) -> None:
        self._core = core

    @property
    def serves_topics(self) -> bool:
        """Whether this stage answers AWS IoT's reserved topics itself (not on AWS IoT Core)."""
        return self._core.settings.serves_aws_iot_topics()

    @cached_property
    def named_shadow_repository(self) -> NamedShadowRepository:
        from chalicelib.aws_iot.named_shadow_store import NamedShadowRepository
        return NamedShadowRepository()

    @cached_property
    def shadow_service(self) -> ShadowService:
        from chalicelib.aws_iot.shadow import ShadowService
        from chalicelib.twin.services import TwinServices
        core = self._core
        return ShadowService(core.of(TwinServices).twin_repository, self.named_shadow_repository, core.publisher,
                             core.settings.twin, on_written=core.of(ShadowHooks).on_written)

    @cached_property
    def aws_jobs_service(self) -> AwsJobsService:
        """AWS IoT's jobs topics on the same executions."""
        from chalicelib.aws_iot.jobs import AwsJobsService
        from chalicelib.jobs.services import JobServices
        jobs = self._core.of(JobServices)
        return AwsJobsService(jobs.execution_service, jobs.execution_repository, self._core.publisher)
