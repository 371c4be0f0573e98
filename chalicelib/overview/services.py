"""The overview feature's long-lived objects, built on first use from the core (see core/feature.py)."""
from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.core.feature import Core
    from chalicelib.core.storage.cursors import Page
    from chalicelib.jobs.schemas import Job
    from chalicelib.overview.service import OverviewService

# One page of the jobs in progress is what the overview shows (its link lists them all).
JOBS_SHOWN = 20


class OverviewServices:
    """The fleet at a glance, read from the indexes the devices, twin and commands features keep."""

    def __init__(self, core: Core) -> None:
        self._core = core

    @cached_property
    def overview_service(self) -> OverviewService:
        from chalicelib.devices.services import DeviceServices
        from chalicelib.jobs.schemas import JobStatus
        from chalicelib.jobs.services import JobServices
        from chalicelib.overview.service import OverviewService
        from chalicelib.overview.store import OverviewReader
        core = self._core

        def jobs_in_progress(tenant_id: str) -> Page[Job]:
            return core.of(JobServices).job_service.list_page(tenant_id, JobStatus.IN_PROGRESS, JOBS_SHOWN, None)

        return OverviewService(OverviewReader(), jobs_in_progress,
                               core.of(DeviceServices).device_service.presence_windows)
