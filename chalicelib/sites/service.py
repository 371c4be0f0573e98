"""Sites: CRUD, and the fan-out of a schedule change to every device mapped to the site."""
from __future__ import annotations

import time
from collections.abc import Callable

from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.ids import new_id
from chalicelib.core.observability.log import logger
from chalicelib.core.storage.cursors import Page
from chalicelib.core.sweep import schedule_shard
from chalicelib.sites.fanout import FanoutPolicy, FanoutProgress, SiteFanout
from chalicelib.sites.ports import SiteDevices, SiteStore
from chalicelib.sites.schemas import CreateSite, Site, SiteChange, UpdateSite
from chalicelib.sites.store import Fanout
from chalicelib.sites.welcome import WelcomeSender

SCHEDULE_FIELDS = ("wake_schedule_cron", "timezone")


class SiteService:
    """Site use cases, scoped by tenant."""

    def __init__(self, sites: SiteStore, site_devices: SiteDevices, sender: WelcomeSender,
                 clock: Clock = utcnow, policy: FanoutPolicy | None = None, budget_s: float = 20.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._sites = sites
        self._clock = clock
        self._policy = policy or FanoutPolicy()
        self._budget_s = budget_s
        self._monotonic = monotonic
        self._fanout = SiteFanout(sites, site_devices, sender, self._policy, clock, monotonic)

    @property
    def fanout(self) -> SiteFanout:
        """The fan-out runner (the per-minute schedule resumes through it)."""
        return self._fanout

    def create(self, tenant_id: str, request: CreateSite) -> Site:
        """Create a site (id given or generated)."""
        now = self._clock()
        site = Site(
            tenant_id=tenant_id,
            site_id=request.site_id or new_id("site"),
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
        """Change a site; a new cron or timezone is sent to every device mapped to it.

        The sending starts in this request and goes on, within its time budget, until
        every device has it; what is left is finished by the per-minute schedule.
        Mappings racing the change cannot slip through with the old schedule: they are
        conditioned on the schedule_version this change bumps.
        """
        current = self._sites.get(tenant_id, site_id)
        changes = request.changes()
        new_schedule = any(f in changes and changes[f] != getattr(current, f) for f in SCHEDULE_FIELDS)
        owner = new_id("run")
        site = self._sites.update(current, changes, self._clock(), new_schedule,
                                  schedule_shard(f"{tenant_id}#{site_id}", self._policy.shards), self._policy.lease,
                                  owner)
        if not new_schedule:
            return SiteChange(site=site, schedule_changed=False)
        deadline = self._monotonic() + self._budget_s
        try:
            progress = self._fanout.run(Fanout(tenant_id, site_id, site.schedule_version, "", owner), actor,
                                        deadline, site)
        except Exception:
            # The change itself is stored, so the answer must say so (a 500 would invite a retry
            # that changes nothing); the schedule sends the rest once this run's lease ends.
            logger.exception("schedule sending interrupted; the schedule resumes it", tenant=tenant_id,
                             site_id=site_id, version=site.schedule_version, outcome="interrupted")
            progress = FanoutProgress()
        # The update answered the whole item: no need to read the site again for the reply.
        site = site.model_copy(update={"schedule_fanout_pending": not progress.complete})
        return SiteChange(site=site, schedule_changed=True, devices_notified=progress.devices_notified,
                          devices_updated=progress.devices_updated, fanout_complete=progress.complete)
