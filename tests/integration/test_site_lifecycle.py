"""Mapping, remapping, unmapping and schedule fan-out over real DynamoDB, with a fake welcome port."""
from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from chalicelib.container import container
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.devices.schemas import DeviceStatus
from chalicelib.devices.service import DeviceService
from chalicelib.sites.device_store import MoveResult, Placement
from chalicelib.sites.schemas import UpdateSite
from tests.conftest import Stack
from tests.integration.sites_support import SUNDAY_0600_CEST, World, make_world, site_schedule


@pytest.fixture
def world(stack: Stack) -> World:
    return make_world()


def test_mapping_activates_the_device_and_sends_exactly_one_welcome(world: World) -> None:
    # Given an unmapped device and a site waking daily at 06:00 Berlin time
    device = world.device("cam-1")
    site = world.site("barn")
    assert world.registry.get(world.tenant, device).status is DeviceStatus.PENDING_MAPPING
    # When it is mapped on the Saturday before the March change
    result = world.mapping.map(world.tenant, device, site, "op")
    # Then it is active, its next wake is Sunday 06:00 CEST, and one welcome carries the same time
    assert result.changed and result.welcome_command_id == "cmd-1"
    stored = world.registry.get(world.tenant, device)
    assert stored.status is DeviceStatus.ACTIVE and stored.site_id == "barn"
    assert stored.next_wake_at == SUNDAY_0600_CEST
    [welcome] = world.sender.to(device)
    assert welcome.pop("schedule_id").endswith("-00000001")
    assert welcome == {"cron": "0 6 * * *", "timezone": "Europe/Berlin", "next_wake_at": "2025-03-30T04:00:00Z",
                       "site_id": "barn", "site_name": "Barn"}
    assert world.sites.get(world.tenant, site).device_count == 1


def test_mapping_to_the_same_site_again_sends_nothing(world: World) -> None:
    device, site = world.device("cam-2"), world.site("barn")
    world.mapping.map(world.tenant, device, site, "op")
    again = world.mapping.map(world.tenant, device, site, "op")
    assert not again.changed and again.welcome_command_id is None
    assert len(world.sender.to(device)) == 1
    assert world.sites.get(world.tenant, site).device_count == 1


def test_concurrent_identical_mappings_send_one_welcome(world: World) -> None:
    # Given eight operators mapping the same device to the same site at once
    device, site = world.device("cam-race"), world.site("barn")
    barrier = threading.Barrier(8)
    results: list[bool] = []

    def put() -> None:
        barrier.wait()
        results.append(world.mapping.map(world.tenant, device, site, "op").changed)

    threads = [threading.Thread(target=put) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # Then one mapping changed something, one welcome went out, and the count is 1
    assert sorted(results) == [False] * 7 + [True]
    assert len(world.sender.to(device)) == 1
    assert world.sites.get(world.tenant, site).device_count == 1


def test_remapping_sends_a_new_welcome_and_moves_the_counts(world: World) -> None:
    device = world.device("cam-3")
    barn, field_site = world.site("barn"), world.site("field", cron="30 7 * * *", tz="America/New_York")
    world.mapping.map(world.tenant, device, barn, "op")
    # When the device moves to another site
    moved = world.mapping.map(world.tenant, device, field_site, "op")
    # Then a second welcome carries the new site's schedule, and each site counts its devices
    assert moved.changed
    welcomes = world.sender.to(device)
    assert [w["site_id"] for w in welcomes] == ["barn", "field"]
    assert welcomes[1]["next_wake_at"] == "2025-03-30T11:30:00Z"  # 07:30 EDT
    assert world.sites.get(world.tenant, barn).device_count == 0
    assert world.sites.get(world.tenant, field_site).device_count == 1


def test_unmapping_returns_the_device_to_pending_mapping(world: World) -> None:
    device, site = world.device("cam-4"), world.site("barn")
    world.mapping.map(world.tenant, device, site, "op")
    unmapped = world.mapping.unmap(world.tenant, device)
    assert unmapped.status is DeviceStatus.PENDING_MAPPING and unmapped.site_id is None
    stored = world.registry.get(world.tenant, device)
    assert stored.status is DeviceStatus.PENDING_MAPPING and stored.next_wake_at is None
    assert world.sites.get(world.tenant, site).device_count == 0
    with pytest.raises(NotFound):
        world.mapping.unmap(world.tenant, device)
    # Mapping it back is a new mapping, with a new welcome
    assert world.mapping.map(world.tenant, device, site, "op").changed
    assert len(world.sender.to(device)) == 2


def test_schedule_change_fans_out_in_one_batch_and_updates_next_wake(world: World) -> None:
    # Given 30 devices on a site (one of them disabled) and one device on another site
    site, other = world.site("barn"), world.site("other")
    devices = [world.device(f"fan-{i:02d}") for i in range(30)]
    for d in devices:
        world.mapping.map(world.tenant, d, site, "op")
    outsider = world.device("outsider")
    world.mapping.map(world.tenant, outsider, other, "op")
    world.mapping.set_enabled(world.tenant, devices[0], False, "op")
    world.sender.sent.clear()
    # When the site's cron changes
    change = world.sites.update(world.tenant, site, UpdateSite(wake_schedule_cron="0 */4 * * *"), "op")
    # Then the enabled devices get the new schedule in one batch, and every mapped device's next wake moves
    assert change.schedule_changed and change.devices_notified == 29 and change.devices_updated == 30
    assert world.sender.batches == [29]
    assert {d for _, d, _ in world.sender.sent} == set(devices[1:])
    assert {p["cron"] for _, _, p in world.sender.sent} == {"0 */4 * * *"}
    sixteen_cet = datetime(2025, 3, 29, 15, 0, tzinfo=UTC)
    assert {world.registry.get(world.tenant, d).next_wake_at for d in devices} == {sixteen_cet}
    assert world.registry.get(world.tenant, outsider).next_wake_at == SUNDAY_0600_CEST


def test_renaming_a_site_sends_no_schedule(world: World) -> None:
    device, site = world.device("cam-5"), world.site("barn")
    world.mapping.map(world.tenant, device, site, "op")
    change = world.sites.update(world.tenant, site, UpdateSite(name="Big barn", program="pilot"), "op")
    assert not change.schedule_changed and change.site.name == "Big barn" and change.site.program == "pilot"
    same_cron = world.sites.update(world.tenant, site, UpdateSite(wake_schedule_cron="0 6 * * *"), "op")
    assert not same_cron.schedule_changed
    assert len(world.sender.to(device)) == 1


def test_a_mapping_that_read_a_replaced_schedule_is_refused(world: World) -> None:
    # Given a mapping that read version 1 of the schedule, then the schedule changed
    device, site = world.device("cam-6"), world.site("barn")
    read = world.sites.get(world.tenant, site)
    world.sites.update(world.tenant, site, UpdateSite(timezone="Asia/Tokyo"), "op")
    # Then its write fails on the site, so the service re-reads and welcomes with the new schedule
    repo = container().site_device_repository
    new = Placement(site, DeviceStatus.ACTIVE, SUNDAY_0600_CEST, "m1")
    current = Placement(None, DeviceStatus.PENDING_MAPPING)
    assert repo.move(world.tenant, device, current, new, read.schedule_version) is MoveResult.SITE_CHANGED
    world.mapping.map(world.tenant, device, site, "op")
    assert world.sender.to(device)[0]["timezone"] == "Asia/Tokyo"


def test_a_failed_welcome_undoes_the_mapping_so_a_retry_welcomes(world: World) -> None:
    device, site = world.device("cam-7"), world.site("barn")
    world.sender.fail = True
    with pytest.raises(RuntimeError):
        world.mapping.map(world.tenant, device, site, "op")
    assert world.registry.get(world.tenant, device).status is DeviceStatus.PENDING_MAPPING
    assert world.sites.get(world.tenant, site).device_count == 0
    world.sender.fail = False
    assert world.mapping.map(world.tenant, device, site, "op").changed
    assert len(world.sender.to(device)) == 1


def test_a_disabled_device_is_mapped_quietly_and_welcomed_when_enabled(world: World) -> None:
    device, site = world.device("cam-8"), world.site("barn")
    world.mapping.set_enabled(world.tenant, device, False, "op")
    mapped = world.mapping.map(world.tenant, device, site, "op")
    assert mapped.changed and mapped.device.status is DeviceStatus.DISABLED and not world.sender.to(device)
    # A day later it is enabled: it becomes active and is sent the site's current schedule
    world.clock.advance(days=1)
    enabled = world.mapping.set_enabled(world.tenant, device, True, "op")
    assert enabled.status is DeviceStatus.ACTIVE
    assert [w["next_wake_at"] for w in world.sender.to(device)] == ["2025-03-31T04:00:00Z"]
    # Enabling it again changes nothing and sends nothing
    world.mapping.set_enabled(world.tenant, device, True, "op")
    assert len(world.sender.to(device)) == 1


def test_deleting_a_mapped_device_releases_its_site(world: World) -> None:
    device, site = world.device("cam-9"), world.site("barn")
    world.mapping.map(world.tenant, device, site, "op")
    with pytest.raises(Conflict):
        world.sites.delete(world.tenant, site)
    container().device_service.delete(world.tenant, device)
    assert world.sites.get(world.tenant, site).device_count == 0
    world.sites.delete(world.tenant, site)
    with pytest.raises(NotFound):
        world.sites.get(world.tenant, site)


def test_mapping_to_a_missing_site_or_device_is_not_found(world: World) -> None:
    device, site = world.device("cam-10"), world.site("barn")
    with pytest.raises(NotFound) as missing_site:
        world.mapping.map(world.tenant, device, "nowhere", "op")
    assert missing_site.value.field == "site_id"
    with pytest.raises(NotFound) as missing_device:
        world.mapping.map(world.tenant, "ghost", site, "op")
    assert missing_device.value.field == "device_id"


def test_a_next_wake_that_has_passed_reads_as_the_schedules_next_one(world: World) -> None:
    # Given a device mapped on the Saturday: its next wake is stored as Sunday 06:00 CEST
    device, site = world.device("cam-w"), world.site("barn")
    world.mapping.map(world.tenant, device, site, "op")

    # When the registry is read on Sunday at noon, after that wake
    sunday_noon = datetime(2025, 3, 30, 10, 0, tzinfo=UTC)
    later = DeviceService(container().device_repository, container().group_repository, clock=lambda: sunday_noon,
                          wake_lookup=site_schedule)
    # Then the device and the site listing show Monday 06:00 CEST, computed from the site's schedule
    monday_0600_cest = datetime(2025, 3, 31, 4, 0, tzinfo=UTC)
    assert later.get(world.tenant, device).next_wake_at == monday_0600_cest
    listed = later.list_page(world.tenant, 10, None, site_id=site).items
    assert [d.next_wake_at for d in listed] == [monday_0600_cest]
    # While before that wake the stored value is shown as it is
    assert world.registry.get(world.tenant, device).next_wake_at == SUNDAY_0600_CEST
