"""SiteService, its schedule fan-out and MappingService over in-memory ports.

The fakes stand in for storage and the command channel (our ports); the services, the
fan-out's chunking and hand-over, and the wake-time rules under test are the real ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.errors import Conflict, NotFound
from chalicelib.devices.schemas import Device, DeviceStatus
from chalicelib.sites.fanout import FanoutPolicy
from chalicelib.sites.mapping import MappingService
from chalicelib.sites.schemas import CreateSite, UpdateSite
from chalicelib.sites.service import SiteService
from tests.support import Clock
from tests.unit.site_fakes import FakeSiteDevices, FakeSites, RecordingWelcomes

T = "t1"
# Saturday before Berlin's clocks go forward; the next 06:00 Berlin wake is Sunday 04:00 UTC (CEST).
NOW = datetime(2025, 3, 29, 12, 0, tzinfo=UTC)
SUNDAY_0600_CEST = datetime(2025, 3, 30, 4, 0, tzinfo=UTC)
LEASE = timedelta(seconds=120)


class Ticks:
    """A monotonic clock that moves `step` seconds on every read (a request that takes time)."""

    def __init__(self, step: float = 0.0) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@dataclass
class Sites:
    sites: FakeSites
    devices: FakeSiteDevices
    welcomes: RecordingWelcomes
    clock: Clock
    ticks: Ticks
    service: SiteService
    mapping: MappingService

    def site(self, site_id: str = "barn", cron: str = "0 6 * * *") -> str:
        self.service.create(T, CreateSite(site_id=site_id, name=site_id.title(), wake_schedule_cron=cron,
                                          timezone="Europe/Berlin"))
        return site_id

    def mapped(self, count: int, site_id: str = "barn") -> list[str]:
        ids = [f"cam-{i:02d}" for i in range(count)]
        for device_id in ids:
            self.devices.add(Device(tenant_id=T, device_id=device_id, created_at=NOW))
            self.mapping.map(T, device_id, site_id, "op")
        self.welcomes.sent.clear()
        return ids


def _sites(chunk: int = 500, step: float = 0.0, budget_s: float = 20.0) -> Sites:
    store, welcomes, clock, ticks = FakeSites(), RecordingWelcomes(), Clock(NOW), Ticks(step)
    devices = FakeSiteDevices(store)
    service = SiteService(store, devices, welcomes, clock, FanoutPolicy(shards=1, chunk=chunk, lease=LEASE),
                          budget_s=budget_s, monotonic=ticks)
    return Sites(store, devices, welcomes, clock, ticks, service,
                 MappingService(store, devices, devices, welcomes, clock))


# -- create and update ---------------------------------------------------------------------

def test_a_new_site_starts_at_schedule_version_one_and_its_id_cannot_be_taken_twice() -> None:
    world = _sites()
    world.site()
    site = world.service.get(T, "barn")
    assert (site.schedule_version, site.device_count, site.created_at) == (1, 0, NOW)
    with pytest.raises(Conflict):
        world.site()


def test_renaming_a_site_sends_nothing_to_its_devices() -> None:
    # Given a site with two mapped devices
    world = _sites()
    world.site()
    world.mapped(2)
    # When only its name changes
    change = world.service.update(T, "barn", UpdateSite(name="Big barn"), "op")
    # Then the schedule stays, no fan-out is opened and nobody is told
    assert not change.schedule_changed and change.site.name == "Big barn" and change.site.schedule_version == 1
    assert world.welcomes.sent == [] and world.sites.fanouts == {}


def test_a_site_of_another_tenant_is_not_found() -> None:
    world = _sites()
    world.site()
    with pytest.raises(NotFound):
        world.service.update("t2", "barn", UpdateSite(name="mine"), "op")


# -- schedule fan-out ----------------------------------------------------------------------

def test_a_new_cron_reaches_every_device_of_the_site_in_chunks() -> None:
    # Given five devices on a site and chunks of two
    world = _sites(chunk=2)
    world.site()
    ids = world.mapped(5)
    # When the wake time changes from 06:00 to 07:00
    change = world.service.update(T, "barn", UpdateSite(wake_schedule_cron="0 7 * * *"), "op")
    # Then the new version goes to all five, in three batches, and the fan-out is closed
    assert change.schedule_changed and change.fanout_complete and not change.site.schedule_fanout_pending
    assert (change.devices_updated, change.devices_notified) == (5, 5)
    assert world.welcomes.batches == [2, 2, 1]
    assert sorted(d for d, _ in world.welcomes.sent) == ids
    assert {p["cron"] for _, p in world.welcomes.sent} == {"0 7 * * *"}
    assert change.site.schedule_version == 2 and world.sites.fanouts == {}
    assert world.devices.placed(T, ids[0]).placement.next_wake_at == SUNDAY_0600_CEST + timedelta(hours=1)


def test_a_disabled_device_gets_the_new_wake_time_but_no_command() -> None:
    world = _sites()
    world.site()
    on, off = world.mapped(2)
    world.mapping.set_enabled(T, off, False, "op")
    change = world.service.update(T, "barn", UpdateSite(wake_schedule_cron="0 7 * * *"), "op")
    assert (change.devices_updated, change.devices_notified) == (2, 1)
    assert [d for d, _ in world.welcomes.sent] == [on]
    assert world.devices.placed(T, off).placement.wake_version == 2


def test_a_fan_out_out_of_time_is_handed_to_the_schedule_which_finishes_it() -> None:
    # Given a request whose time budget is spent after its first chunk
    world = _sites(chunk=2, step=15.0, budget_s=10.0)
    world.site()
    ids = world.mapped(5)
    # When the cron changes
    change = world.service.update(T, "barn", UpdateSite(wake_schedule_cron="0 7 * * *"), "op")
    # Then the answer says the sending goes on, and the fan-out is due for the schedule at once
    assert not change.fanout_complete and change.site.schedule_fanout_pending
    assert change.devices_notified == 2
    assert world.sites.due_fanouts(0, NOW, 10) == [(T, "barn")]
    # When the per-minute schedule runs with time to spare
    world.ticks.step = 0.0
    report = world.service.fanout.run_due(NOW, budget_s=30.0)
    # Then it sends the rest, each device once, and closes the fan-out
    assert (report.resumed, report.completed, report.devices_notified) == (1, 1, 3)
    assert sorted(d for d, _ in world.welcomes.sent) == ids and world.sites.fanouts == {}


def test_a_running_fan_out_is_not_taken_over_before_its_lease_ends() -> None:
    world = _sites(chunk=2, step=15.0, budget_s=10.0)
    world.site()
    world.mapped(3)
    world.service.update(T, "barn", UpdateSite(wake_schedule_cron="0 7 * * *"), "op")
    fanout = world.sites.fanout(T, "barn")
    assert fanout is not None
    # The handed-over fan-out is due now; once claimed, a second claimer is refused until the lease ends
    assert world.sites.claim_fanout(fanout, NOW, LEASE)
    assert not world.sites.claim_fanout(fanout, NOW + LEASE - timedelta(seconds=1), LEASE)
    assert world.service.fanout.run_due(NOW + timedelta(seconds=1), budget_s=30.0).resumed == 0


# -- mapping -------------------------------------------------------------------------------

def test_mapping_activates_the_device_and_sends_exactly_one_welcome() -> None:
    # Given an unmapped device and a site waking daily at 06:00 Berlin time
    world = _sites()
    world.site()
    world.devices.add(Device(tenant_id=T, device_id="cam-1", created_at=NOW))
    # When it is mapped, twice
    first = world.mapping.map(T, "cam-1", "barn", "op")
    again = world.mapping.map(T, "cam-1", "barn", "op")
    # Then it is active with the next wake, one welcome was queued, and the second mapping changed nothing
    assert first.changed and first.device.status is DeviceStatus.ACTIVE
    assert first.device.next_wake_at == SUNDAY_0600_CEST and first.welcome_command_id == "cmd-1"
    assert not again.changed and again.welcome_command_id is None
    [(device_id, params)] = world.welcomes.sent
    assert device_id == "cam-1" and params["site_id"] == "barn" and params["cron"] == "0 6 * * *"
    assert world.service.get(T, "barn").device_count == 1


def test_mapping_to_a_missing_site_is_not_found_and_changes_nothing() -> None:
    world = _sites()
    world.devices.add(Device(tenant_id=T, device_id="cam-1", created_at=NOW))
    with pytest.raises(NotFound) as missing:
        world.mapping.map(T, "cam-1", "nowhere", "op")
    assert missing.value.field == "site_id"
    assert world.devices.placed(T, "cam-1").placement.site_id is None and world.welcomes.sent == []
