"""The device registry's long-lived objects, built on first use from the core (see core/feature.py)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.core.feature import Core
    from chalicelib.devices.service import DeviceService, WakeLookup
    from chalicelib.devices.store import DeviceRepository


def _ignore(tenant_id: str, device_id: str) -> None:
    return None


@dataclass(frozen=True)
class DeviceHooks:
    """What other features do when a device is created or deleted, and a site's wake schedule.

    The composition root wires them (the devices feature does not know jobs, sites or shadows).
    """

    wake_lookup: WakeLookup | None = None
    on_created: Callable[[str, str], object] = _ignore
    on_deleted: Callable[[str, str], object] = _ignore


class DeviceServices:
    """The registry and its use cases."""

    def __init__(self, core: Core) -> None:
        self._core = core

    @cached_property
    def device_repository(self) -> DeviceRepository:
        from chalicelib.devices.store import DeviceRepository
        return DeviceRepository()

    @cached_property
    def device_service(self) -> DeviceService:
        from chalicelib.devices.service import DeviceService
        from chalicelib.groups.services import GroupServices
        core, hooks = self._core, self._core.of(DeviceHooks)
        policy = core.settings.devices
        return DeviceService(self.device_repository, core.of(GroupServices).group_repository,
                             policy.last_seen_resolution_s, publisher=core.publisher, wake_lookup=hooks.wake_lookup,
                             on_deleted=hooks.on_deleted, away_after_s=policy.away_after_s,
                             on_created=hooks.on_created, stale_after=core.settings.twin.stale_after,
                             presence_cache_s=policy.presence_cache_s, token_cache_s=policy.token_cache_s)
