"""Sites: CRUD, and the fan-out of a schedule change to every device mapped to the site."""
from __future__ import annotations

import logging

from ulid import ULID

from chalicelib.schemas.devices import DeviceStatus
from chalicelib.schemas.sites import CreateSite, Site, SiteChange, UpdateSite, welcome_params
from chalicelib.schemas.wake import next_wake
from chalicelib.services.devices import Clock
from chalicelib.services.welcome import WelcomeSender
from chalicelib.storage.base import Page, utcnow
from chalicelib.storage.site_devices import SiteDeviceRepository
from chalicelib.storage.sites import SiteRepository

log = logging.getLogger(__name__)

SCHEDULE_FIELDS = ("wake_schedule_cron", "timezone")


class SiteService:
    """Site use cases, scoped by tenant."""

    def __init__(self, sites: SiteRepository, site_devices: SiteDeviceRepository, sender: WelcomeSender,
                 clock: Clock = utcnow) -> None:
        self._sites = sites
        self._site_devices = site_devices
        self._sender = sender
        self._clock = clock

    def create(self, tenant_id: str, request: CreateSite) -> Site:
        """Create a site (id given or generated)."""
        now = self._clock()
        site = Site(
            tenant_id=tenant_id,
            site_id=request.site_id or f"site-{str(ULID()).lower()}",
            name=request.name,
            wake_schedule_cron=request.wake_schedule_cron,
            timezone=request.timezone,
            program=request.program,
            company=request.company,
            created_at=now,
            updated_at=now,
        )
        self._sites.create(site)
        return site

    def get(self, tenant_id: str, site_id: str) -> Site:
        """One site (404 for a foreign or missing id)."""
        return self._sites.get(tenant_id, site_id)

    def list_page(self, tenant_id: str, limit: int, next_token: str | None) -> Page[Site]:
        """A page of sites."""
        return self._sites.list_page(tenant_id, limit, next_token)

    def delete(self, tenant_id: str, site_id: str) -> None:
        """Delete a site; 409 while devices are mapped to it."""
        self._sites.delete(tenant_id, site_id)

    def update(self, tenant_id: str, site_id: str, request: UpdateSite, actor: str) -> SiteChange:
        """Change a site; a new cron or timezone is sent to every device mapped to it."""
        current = self._sites.get(tenant_id, site_id)
        changes = request.changes()
        new_schedule = any(f in changes and changes[f] != getattr(current, f) for f in SCHEDULE_FIELDS)
        site = self._sites.update(current, changes, self._clock(), new_schedule)
        if not new_schedule:
            return SiteChange(site=site, schedule_changed=False)
        return self._fan_out(site, actor)

    def _fan_out(self, site: Site, actor: str) -> SiteChange:
        """Store the new next wake on every mapped device and queue it to the enabled ones.

        Devices come from the by-site index. A mapping racing this change cannot slip
        through with the old schedule: it is conditioned on the schedule_version this
        change bumped, so it retries and welcomes the device with the new one. What remains
        is the index's propagation lag: a mapping committed a moment before this change may
        not be listed yet (its welcome then carries the previous schedule).
        """
        wake = next_wake(site.wake_schedule_cron, site.timezone, self._clock())
        members = list(self._site_devices.members(site.tenant_id, site.site_id))
        updated = self._site_devices.set_site_wake(site.tenant_id, site.site_id,
                                                   [m.device_id for m in members], wake)
        params = welcome_params(site, wake)
        # Disabled devices refuse commands; they get the current schedule when enabled again.
        targets = [(m.device_id, params) for m in members if m.status is DeviceStatus.ACTIVE]
        sent = self._sender.send_many(site.tenant_id, targets, actor) if targets else []
        log.info("site %s/%s schedule v%d: %d devices updated, %d commands queued",
                 site.tenant_id, site.site_id, site.schedule_version, updated, len(sent))
        return SiteChange(site=site, schedule_changed=True, devices_notified=len(targets), devices_updated=updated)
