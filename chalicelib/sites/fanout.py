"""Sending a site's new schedule to its devices in resumable chunks."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from chalicelib.core.ids import new_id
from chalicelib.core.observability.log import logger
from chalicelib.core.policies import FanoutPolicy
from chalicelib.core.sweep import Outcome, SweepReport, SweepRunner
from chalicelib.devices.schemas import DeviceStatus
from chalicelib.sites.ports import SiteDevices, SiteStore
from chalicelib.sites.rules import next_wake, welcome_params
from chalicelib.sites.schemas import Site
from chalicelib.sites.store import Fanout
from chalicelib.sites.welcome import WelcomeSender

DUE_PAGE = 50


@dataclass
class FanoutProgress:
    """What one run of a fan-out did."""

    devices_updated: int = 0
    devices_notified: int = 0
    chunks: int = 0
    complete: bool = False


@dataclass
class FanoutReport(SweepReport):
    """What one scheduled run did across sites; `done` counts the fan-outs completed."""

    resumed: int = 0
    devices_notified: int = 0

    @property
    def completed(self) -> int:
        """Fan-outs this run finished."""
        return self.done

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "completed": self.done}


class SiteFanout:
    """Moves a schedule change through the site's devices, one chunk at a time.

    A chunk is: one page of the by-site index after the fan-out's cursor, the new next
    wake on those devices, the welcome command to the enabled ones, then one conditional
    write that moves the cursor past them and renews the lease. A runner that dies inside
    a chunk leaves the cursor before it; whoever resumes (the per-minute schedule, once
    the lease ran out) redoes that chunk, so a device may get the same schedule twice but
    never misses it. Each chunk's write first checks (and renews) the runner's lease: a
    runner that stalled past it, and whose fan-out another runner took over, writes
    nothing more. A newer schedule change resets the fan-out, and the older runner's
    next write fails, so it stops.
    """

    def __init__(self, sites: SiteStore, site_devices: SiteDevices, sender: WelcomeSender,
                 policy: FanoutPolicy, clock: Callable[[], datetime],
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._sites = sites
        self._site_devices = site_devices
        self._sender = sender
        self._policy = policy
        self._clock = clock
        self._runner = SweepRunner(policy.shards, monotonic)

    def run(self, fanout: Fanout, actor: str, deadline: float, site: Site | None = None) -> FanoutProgress:
        """Work through chunks until the fan-out is done, replaced, or `deadline` (monotonic) passes.

        `site` is the record the caller just wrote, if it has one; later chunks read it again
        (strongly consistent), so a chunk never starts on a schedule already replaced.
        """
        progress = FanoutProgress()
        while True:
            site = site or self._sites.get(fanout.tenant_id, fanout.site_id)
            if site.schedule_version != fanout.version:
                return progress  # a newer schedule took over; it runs its own fan-out
            members, cursor = self._site_devices.members_page(fanout.tenant_id, fanout.site_id, fanout.cursor,
                                                              self._policy.chunk)
            if members and not self._sites.hold_fanout(fanout, self._clock(), self._policy.lease):
                return progress  # this runner stalled past its lease and the fan-out is another's now
            wake = next_wake(site.wake_schedule_cron, site.timezone, self._clock())
            # Only devices whose stored schedule this run could set get its command: where a
            # newer schedule is stored already, its own fan-out has sent it.
            written = self._site_devices.set_site_wake(
                site.tenant_id, site.site_id, [m.device_id for m in members], wake, fanout.version)
            progress.devices_updated += len(written)
            # Disabled devices refuse commands; they get the current schedule when enabled again.
            targets = [(m.device_id, welcome_params(site, wake, written[m.device_id]))
                       for m in members if m.status is DeviceStatus.ACTIVE and m.device_id in written]
            if targets:
                self._sender.send_many(site.tenant_id, targets, actor)
            progress.devices_notified += len(targets)
            progress.chunks += 1
            # Out of time: hand the rest to the schedule at once instead of holding the lease.
            out_of_time = self._runner.out_of_time(deadline)
            lease = timedelta(0) if out_of_time else self._policy.lease
            if not self._sites.advance_fanout(fanout, cursor, self._clock(), lease):
                return progress  # replaced or taken over meanwhile
            if cursor is None:
                progress.complete = True
                logger.info("site schedule sent", tenant=site.tenant_id, site_id=site.site_id,
                            version=fanout.version, devices_updated=progress.devices_updated,
                            devices_notified=progress.devices_notified, chunks=progress.chunks, outcome="complete")
                return progress
            if out_of_time:
                logger.info("site schedule out of time; the schedule resumes it", tenant=site.tenant_id,
                            site_id=site.site_id, version=fanout.version, chunks=progress.chunks, outcome="backlog")
                return progress
            fanout = replace(fanout, cursor=cursor)
            site = None  # read again for the next chunk

    def run_due(self, now: datetime, budget_s: float, actor: str = "schedule") -> FanoutReport:
        """The scheduled work: resume every fan-out whose runner went quiet."""
        deadline = self._runner.deadline(budget_s)
        report = FanoutReport()
        return self._runner.run(report, lambda shard: self._sites.due_fanouts(shard, now, DUE_PAGE),
                                lambda due: self._resume(*due, now, actor, deadline, report),
                                key=lambda due: f"{due[0]}/{due[1]}", deadline=deadline)

    def _resume(self, tenant_id: str, site_id: str, now: datetime, actor: str, deadline: float,
                report: FanoutReport) -> Outcome:
        found = self._sites.fanout(tenant_id, site_id)
        fanout = found and replace(found, owner=new_id("run"))
        if fanout is None or not self._sites.claim_fanout(fanout, now, self._policy.lease):
            return Outcome.SKIPPED  # finished, or another runner took it meanwhile
        report.resumed += 1
        try:
            progress = self.run(fanout, actor, deadline)
        except Exception:  # one site's failure must not hold up the others; its lease retries it
            logger.exception("resumed fan-out failed; retried when its lease ends", tenant=tenant_id, site_id=site_id,
                             outcome="failed")
            return Outcome.LEFT
        report.devices_notified += progress.devices_notified
        return Outcome.DONE if progress.complete else Outcome.LEFT
