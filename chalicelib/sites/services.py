"""The sites feature's long-lived objects, built on first use from the core (see core/feature.py)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.core.feature import Core
    from chalicelib.sites.device_store import SiteDeviceRepository
    from chalicelib.sites.mapping import MappingService
    from chalicelib.sites.service import SiteService
    from chalicelib.sites.store import SiteRepository
    from chalicelib.sites.welcome import WelcomeSender


@dataclass(frozen=True)
class SiteHooks:
    """How sites reach devices: the welcome (set_wake_schedule) through the command channel, wired by
    the composition root (the commands feature reads sites for site commands: no import back)."""

    welcome_sender: WelcomeSender


class SiteServices:
    """Sites, a device's place in one, and the schedule fan-out."""

    def __init__(self, core: Core) -> None:
        self._core = core

    @cached_property
    def site_repository(self) -> SiteRepository:
        from chalicelib.sites.store import SiteRepository
        return SiteRepository()

    @cached_property
    def site_device_repository(self) -> SiteDeviceRepository:
        from chalicelib.sites.device_store import SiteDeviceRepository
        return SiteDeviceRepository(self._core.settings.sites.workers)

    @property
    def welcome_sender(self) -> WelcomeSender:
        """set_wake_schedule through the command channel."""
        return self._core.of(SiteHooks).welcome_sender

    def wake_schedule(self, tenant_id: str, site_id: str) -> tuple[str, str] | None:
        """The site's (cron, timezone), or None when the site is gone."""
        site = self.site_repository.find(tenant_id, site_id)
        return (site.wake_schedule_cron, site.timezone) if site else None

    @cached_property
    def site_service(self) -> SiteService:
        from chalicelib.sites.service import SiteService
        policy = self._core.settings.sites
        return SiteService(self.site_repository, self.site_device_repository, self.welcome_sender, policy=policy,
                           budget_s=policy.budget_s)

    @cached_property
    def mapping_service(self) -> MappingService:
        from chalicelib.devices.services import DeviceServices
        from chalicelib.sites.mapping import MappingService
        return MappingService(self.site_repository, self.site_device_repository,
                              self._core.of(DeviceServices).device_service, self.welcome_sender)
