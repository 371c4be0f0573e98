"""A schedule change reaches every device of a site, even when its sending is cut short."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.container import container
from chalicelib.sites.device_store import SiteDeviceRepository, SiteMember
from chalicelib.sites.fanout import FanoutPolicy
from chalicelib.sites.schemas import UpdateSite
from chalicelib.sites.service import SiteService
from tests.conftest import Stack
from tests.integration.sites_support import FakeWelcomeSender, World, make_world

LEASE = timedelta(seconds=120)


def _site_of(world: World, n: int, site: str = "barn") -> list[str]:
    world.site(site)
    devices = [world.device(f"{site}-{i:02d}") for i in range(n)]
    for d in devices:
        world.mapping.map(world.tenant, d, site, "op")
    world.sender.sent.clear()
    world.sender.batches.clear()
    return devices


def _crons_sent(world: World) -> Counter[tuple[str, str]]:
    return Counter((d, p["cron"]) for t, d, p in world.sender.sent if t == world.tenant)


def _pending(world: World, site: str = "barn") -> bool:
    return world.sites.get(world.tenant, site).schedule_fanout_pending


def test_an_interrupted_schedule_change_is_finished_by_the_schedule(stack: Stack) -> None:
    # Given 25 devices on a site, sent in chunks of 10, and a command table that fails the second chunk
    world = make_world(FanoutPolicy(chunk=10, lease=LEASE))
    devices = _site_of(world, 25)
    world.sender.fail_batches = {2}
    # When the cron changes, the sending fails part-way: the change is stored and says it is unfinished
    change = world.sites.update(world.tenant, "barn", UpdateSite(wake_schedule_cron="0 */4 * * *"), "op")
    assert change.schedule_changed and not change.fanout_complete and change.site.schedule_version == 2
    assert _pending(world) and len(_crons_sent(world)) == 10
    # Then the schedule leaves it alone while the request's lease lasts
    assert world.sites.fanout.run_due(world.clock.now, 30).resumed == 0
    # And once the lease ran out it resumes after the last finished chunk
    report = world.sites.fanout.run_due(world.clock.advance(seconds=121), 30)
    assert report.resumed == 1 and report.completed == 1, report
    # So every device got the new schedule exactly once, and the site is no longer pending
    assert _crons_sent(world) == Counter((d, "0 */4 * * *") for d in devices)
    assert not _pending(world)
    assert world.sites.get(world.tenant, "barn").schedule_version == 2
    wakes = {world.registry.get(world.tenant, d).next_wake_at for d in devices}
    assert len(wakes) == 1


def test_a_change_out_of_time_is_handed_to_the_next_tick_at_once(stack: Stack) -> None:
    # Given 25 devices in chunks of 10 and a request with no time to spare
    world = make_world(FanoutPolicy(chunk=10, lease=LEASE), budget_s=0)
    devices = _site_of(world, 25)
    # When the timezone changes
    change = world.sites.update(world.tenant, "barn", UpdateSite(timezone="America/New_York"), "op")
    # Then the answer says one chunk went out and the rest is pending
    assert change.schedule_changed and not change.fanout_complete and change.devices_notified == 10
    assert change.site.schedule_fanout_pending
    # And the very next tick (no lease to wait out) sends the rest
    report = world.sites.fanout.run_due(world.clock.now, 30)
    assert report.completed == 1
    assert _crons_sent(world) == Counter((d, "0 6 * * *") for d in devices)
    assert {p["timezone"] for _, _, p in world.sender.sent} == {"America/New_York"}


def test_a_newer_schedule_replaces_an_unfinished_fan_out(stack: Stack) -> None:
    # Given a fan-out of cron A cut short after its first chunk
    world = make_world(FanoutPolicy(chunk=10, lease=LEASE), budget_s=0)
    devices = _site_of(world, 25)
    world.sites.update(world.tenant, "barn", UpdateSite(wake_schedule_cron="0 5 * * *"), "op")
    # When cron B replaces it and is sent in full
    full = SiteService(container().site_repository, container().site_device_repository, world.sender, world.clock,
                       policy=FanoutPolicy(chunk=100, lease=LEASE))
    change = full.update(world.tenant, "barn", UpdateSite(wake_schedule_cron="0 7 * * *"), "op")
    assert change.fanout_complete and not _pending(world)
    # Then the schedule has nothing left of A to send, and every device has B last
    assert world.sites.fanout.run_due(world.clock.advance(seconds=300), 30).resumed == 0
    last = {d: p["cron"] for t, d, p in world.sender.sent if t == world.tenant}
    assert last == dict.fromkeys(devices, "0 7 * * *")
    assert sum(1 for (_, cron) in _crons_sent(world).elements() if cron == "0 5 * * *") == 10


class SenderRunningBInside(FakeWelcomeSender):
    """Records welcomes; on its first batch (schedule A's) lets schedule B's whole fan-out run first."""

    def __init__(self, newer_change: Any) -> None:
        super().__init__()
        self.newer_change = newer_change

    def send_many(self, tenant_id: str, items: list[tuple[str, dict[str, Any]]], created_by: str) -> list[str]:
        change, self.newer_change = self.newer_change, None
        if change is not None:
            change()  # B commits, writes every device's wake and queues its commands, all before A's
        return super().send_many(tenant_id, items, created_by)


def test_a_replaced_fan_out_still_running_cannot_undo_its_successor(stack: Stack) -> None:
    # Given 25 devices; schedule A's fan-out is in its first chunk when schedule B is PATCHed and sent in full
    world = make_world(FanoutPolicy(chunk=10, lease=LEASE))
    devices = _site_of(world, 25)
    sender = SenderRunningBInside(lambda: full.update(world.tenant, "barn", UpdateSite(wake_schedule_cron="0 7 * * *"),
                                                      "op"))
    slow = SiteService(container().site_repository, container().site_device_repository, sender, world.clock,
                       policy=FanoutPolicy(chunk=10, lease=LEASE))
    full: SiteService = SiteService(container().site_repository, container().site_device_repository, sender,
                                    world.clock, policy=FanoutPolicy(chunk=100, lease=LEASE))
    # When A's first chunk queues its commands after B's, and A then stops
    slow.update(world.tenant, "barn", UpdateSite(wake_schedule_cron="0 5 * * *"), "op")
    # Then every device's newest schedule (the greatest schedule_id) is B, whatever order the commands came in
    newest: dict[str, dict[str, Any]] = {}
    for _, d, params in sender.sent:
        if d not in newest or params["schedule_id"] > newest[d]["schedule_id"]:
            newest[d] = params
    assert {d: p["cron"] for d, p in newest.items()} == dict.fromkeys(devices, "0 7 * * *")
    # And A reached only the devices of its first chunk, and stored wake times are B's
    assert sum(1 for _, _, p in sender.sent if p["cron"] == "0 5 * * *") == 10
    assert not world.sites.get(world.tenant, "barn").schedule_fanout_pending
    seven_cet = datetime(2025, 3, 30, 5, 0, tzinfo=UTC)
    assert {world.registry.get(world.tenant, d).next_wake_at for d in devices} == {seven_cet}


class StallingMembers(SiteDeviceRepository):
    """The by-site index as the first runner reads it: before its second chunk it stalls, while `meanwhile` runs."""

    def __init__(self, meanwhile: Callable[[], None]) -> None:
        super().__init__()
        self._meanwhile = meanwhile
        self.pages = 0

    def members_page(self, tenant_id: str, site_id: str, cursor: str,
                     limit: int) -> tuple[list[SiteMember], str | None]:
        self.pages += 1
        if self.pages == 2:
            self._meanwhile()
        return super().members_page(tenant_id, site_id, cursor, limit)


def test_a_runner_stalled_past_its_lease_writes_no_further_chunk(stack: Stack) -> None:
    # Given 25 devices in chunks of 10, and a request whose runner stalls after its first chunk until its lease
    # ran out and the schedule took the rest over and finished it
    world = make_world(FanoutPolicy(chunk=10, lease=LEASE))
    devices = _site_of(world, 25)

    def schedule_takes_over() -> None:
        report = world.sites.fanout.run_due(world.clock.advance(seconds=121), 30)
        assert report.resumed == 1 and report.completed == 1, report

    stalled = SiteService(container().site_repository, StallingMembers(schedule_takes_over), world.sender,
                          world.clock, policy=FanoutPolicy(chunk=10, lease=LEASE))
    # When the stalled runner wakes up and reads its next page
    change = stalled.update(world.tenant, "barn", UpdateSite(wake_schedule_cron="0 */6 * * *"), "op")
    # Then it writes nothing more: every device got the schedule exactly once
    assert change.devices_notified == 10 and not change.fanout_complete
    assert _crons_sent(world) == Counter((d, "0 */6 * * *") for d in devices)
    assert not _pending(world)
