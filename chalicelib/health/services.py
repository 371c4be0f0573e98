"""The health feature's long-lived objects, built on first use from the core (see core/feature.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.core.feature import Core
    from chalicelib.health.service import HealthService, TenantProbe


@dataclass(frozen=True)
class HealthHooks:
    """Other features' backlogs in the detailed report (the command queue, ...); wired by the composition root."""

    backlogs: dict[str, TenantProbe] = field(default_factory=dict)


class HealthServices:
    """`/health` and `/customer/health`."""

    def __init__(self, core: Core) -> None:
        self._core = core

    @cached_property
    def health_service(self) -> HealthService:
        from chalicelib.devices.services import DeviceServices
        from chalicelib.health.service import HealthService
        core = self._core
        return HealthService(core.settings.version, core.publisher,
                             core.of(DeviceServices).device_repository.credentials_epoch,
                             core.of(HealthHooks).backlogs)
