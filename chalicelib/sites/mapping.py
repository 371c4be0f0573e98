"""Device lifecycle: mapping to a site (with the welcome command), unmapping, disable/enable."""
from __future__ import annotations

from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.ids import new_id
from chalicelib.core.observability.log import logger
from chalicelib.devices.schemas import Device, DeviceStatus
from chalicelib.sites.device_store import MoveResult, Placement
from chalicelib.sites.ports import DeviceSwitch, SiteDevices, SiteStore
from chalicelib.sites.rules import next_wake, welcome_params
from chalicelib.sites.schemas import Mapping, Site
from chalicelib.sites.welcome import WelcomeSender

# A mapping retries this often when a concurrent write moved the device or the site's schedule.
ATTEMPTS = 4


class MappingService:
    """Moves devices between sites and lifecycle states; every call is scoped by tenant."""

    def __init__(self, sites: SiteStore, site_devices: SiteDevices, devices: DeviceSwitch,
                 sender: WelcomeSender, clock: Clock = utcnow) -> None:
        self._sites = sites
        self._site_devices = site_devices
        self._devices = devices
        self._sender = sender
        self._clock = clock

    def map(self, tenant_id: str, device_id: str, site_id: str, actor: str) -> Mapping:
        """Map a device to a site: it becomes active and gets one welcome `set_wake_schedule`.

        Mapping to the site it is already on changes nothing and sends nothing; the
        decision is the condition of the write, so concurrent identical requests send one.
        """
        for _ in range(ATTEMPTS):
            site = self._sites.get(tenant_id, site_id)
            placed = self._site_devices.placed(tenant_id, device_id)
            current = placed.placement
            if current.site_id == site_id:
                return Mapping(device=placed.device, changed=False)
            wake = next_wake(site.wake_schedule_cron, site.timezone, self._clock())
            # A disabled device keeps its status; it is welcomed when enabled again.
            status = DeviceStatus.DISABLED if current.status is DeviceStatus.DISABLED else DeviceStatus.ACTIVE
            new = Placement(site_id, status, wake, _mapping_id(), site.schedule_version)
            if self._site_devices.move(tenant_id, device_id, current, new, site.schedule_version) is MoveResult.MOVED:
                break
        else:
            raise Conflict("the device or the site changed concurrently; retry", field="device_id")
        device = placed.device.model_copy(update={"site_id": site_id, "status": status, "next_wake_at": wake})
        if status is not DeviceStatus.ACTIVE:
            return Mapping(device=device, changed=True)
        command_id = self._welcome(tenant_id, device_id, site, current, new, actor)
        return Mapping(device=device, changed=True, welcome_command_id=command_id)

    def unmap(self, tenant_id: str, device_id: str) -> Device:
        """Take a device off its site: back to pending_mapping (a disabled one stays disabled)."""
        for _ in range(ATTEMPTS):
            placed = self._site_devices.placed(tenant_id, device_id)
            current = placed.placement
            if current.site_id is None:
                raise NotFound(f"device {device_id} is not mapped to a site", field="site_id")
            status = DeviceStatus.DISABLED if current.status is DeviceStatus.DISABLED else DeviceStatus.PENDING_MAPPING
            if self._site_devices.move(tenant_id, device_id, current, Placement(None, status)) is MoveResult.MOVED:
                return placed.device.model_copy(update={"site_id": None, "status": status, "next_wake_at": None})
        raise Conflict("the device changed concurrently; retry", field="device_id")

    def set_enabled(self, tenant_id: str, device_id: str, enabled: bool, actor: str) -> Device:
        """Disable (token refused on HTTP and MQTT) or enable a device.

        A mapped device enabled again is sent its site's current schedule: it may have
        missed schedule changes while it was disabled.
        """
        before = self._site_devices.placed(tenant_id, device_id).placement
        device = self._devices.set_enabled(tenant_id, device_id, enabled)
        if not (enabled and before.status is DeviceStatus.DISABLED and device.site_id):
            return device
        site = self._sites.get(tenant_id, device.site_id)
        wake = next_wake(site.wake_schedule_cron, site.timezone, self._clock())
        if self._site_devices.set_wake(tenant_id, device_id, before.mapping_id, wake, site.schedule_version):
            self._sender.send(tenant_id, device_id, welcome_params(site, wake, before.mapping_id), actor)
            device = device.model_copy(update={"next_wake_at": wake})
        return device

    def _welcome(self, tenant_id: str, device_id: str, site: Site, previous: Placement, new: Placement,
                 actor: str) -> str | None:
        """Queue the welcome; if that fails, undo the mapping so a retried PUT welcomes again."""
        assert new.next_wake_at is not None
        try:
            return self._sender.send(tenant_id, device_id, welcome_params(site, new.next_wake_at, new.mapping_id),
                                     actor)
        except Exception:
            undone = self._site_devices.move(tenant_id, device_id, new, previous)
            logger.warning("welcome failed", tenant=tenant_id, device=device_id,
                           outcome="mapping_undone" if undone is MoveResult.MOVED else f"mapping_kept_{undone.value}")
            raise


def _mapping_id() -> str:
    return new_id()
