"""In-memory fakes of the site ports (SiteStore, SiteDevices, DeviceSwitch, WelcomeSender).

The writes check what the DynamoDB repositories' conditions check: the schedule version a
change read, where a fan-out's cursor stands, the placement a move starts from, and that no
newer schedule's wake is overwritten by an older one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.storage.cursors import Page
from chalicelib.devices.schemas import Device, DeviceStatus
from chalicelib.sites.device_store import MoveResult, Placed, Placement, SiteMember
from chalicelib.sites.ports import DeviceSwitch, SiteDevices, SiteStore
from chalicelib.sites.schemas import Site
from chalicelib.sites.store import Fanout
from chalicelib.sites.welcome import WakeParams, WelcomeSender


@dataclass
class FanoutState:
    version: int
    cursor: str
    shard: int
    due_at: datetime
    owner: str = ""


class FakeSites:
    """SiteStore in memory."""

    def __init__(self) -> None:
        self.sites: dict[tuple[str, str], Site] = {}
        self.fanouts: dict[tuple[str, str], FanoutState] = {}

    def create(self, site: Site) -> None:
        if (site.tenant_id, site.site_id) in self.sites:
            raise Conflict(f"site {site.site_id} already exists", field="site_id")
        self.sites[(site.tenant_id, site.site_id)] = site

    def get(self, tenant_id: str, site_id: str) -> Site:
        if (tenant_id, site_id) not in self.sites:
            raise NotFound(f"site {site_id} not found", field="site_id")
        return self.sites[(tenant_id, site_id)]

    def list_page(self, tenant_id: str, limit: int, next_token: str | None) -> Page[Site]:
        mine = sorted((s for (t, _), s in self.sites.items() if t == tenant_id), key=lambda s: s.site_id)
        return Page(mine[:limit], None)

    def update(self, current: Site, changes: dict[str, Any], now: datetime, new_schedule: bool,
               fanout_shard: int = 0, lease: timedelta = timedelta(0), owner: str = "") -> Site:
        key = (current.tenant_id, current.site_id)
        stored = self.get(*key)
        update = {**changes, "updated_at": now}
        if new_schedule:
            if stored.schedule_version != current.schedule_version:
                raise Conflict("the site's schedule changed concurrently; retry", field="site_id")
            update["schedule_version"] = stored.schedule_version + 1
            self.fanouts[key] = FanoutState(current.schedule_version + 1, "", fanout_shard, now + lease, owner)
        self.sites[key] = stored.model_copy(update=update)
        return self.sites[key]

    def delete(self, tenant_id: str, site_id: str) -> None:
        site = self.get(tenant_id, site_id)
        if site.device_count:
            raise Conflict(f"site {site_id} still has {site.device_count} mapped devices", field="site_id")
        del self.sites[(tenant_id, site_id)]

    def fanout(self, tenant_id: str, site_id: str) -> Fanout | None:
        state = self.fanouts.get((tenant_id, site_id))
        return Fanout(tenant_id, site_id, state.version, state.cursor) if state else None

    def advance_fanout(self, fanout: Fanout, cursor: str | None, now: datetime, lease: timedelta) -> bool:
        key = (fanout.tenant_id, fanout.site_id)
        if not self._at(fanout) or self.fanouts[key].owner != fanout.owner:
            return False
        if cursor is None:
            del self.fanouts[key]
        else:
            self.fanouts[key].cursor, self.fanouts[key].due_at = cursor, now + lease
        return True

    def hold_fanout(self, fanout: Fanout, now: datetime, lease: timedelta) -> bool:
        key = (fanout.tenant_id, fanout.site_id)
        if not self._at(fanout) or self.fanouts[key].owner != fanout.owner:
            return False
        self.fanouts[key].due_at = now + lease
        return True

    def claim_fanout(self, fanout: Fanout, now: datetime, lease: timedelta) -> bool:
        key = (fanout.tenant_id, fanout.site_id)
        if not self._at(fanout) or self.fanouts[key].due_at > now:
            return False
        self.fanouts[key].due_at, self.fanouts[key].owner = now + lease, fanout.owner
        return True

    def due_fanouts(self, shard: int, now: datetime, limit: int) -> list[tuple[str, str]]:
        due = sorted((s.due_at, key) for key, s in self.fanouts.items() if s.shard == shard and s.due_at <= now)
        return [key for _, key in due[:limit]]

    def count(self, tenant_id: str, site_id: str | None, delta: int) -> None:
        if site_id:
            site = self.get(tenant_id, site_id)
            self.sites[(tenant_id, site_id)] = site.model_copy(update={"device_count": site.device_count + delta})

    def _at(self, fanout: Fanout) -> bool:
        state = self.fanouts.get((fanout.tenant_id, fanout.site_id))
        return state is not None and (state.version, state.cursor) == (fanout.version, fanout.cursor)


class FakeSiteDevices:
    """SiteDevices and DeviceSwitch in memory, keeping the sites' device counts like the transaction."""

    def __init__(self, sites: FakeSites) -> None:
        self.sites = sites
        self.devices: dict[tuple[str, str], Device] = {}
        self.placements: dict[tuple[str, str], Placement] = {}

    def add(self, device: Device) -> None:
        self.devices[(device.tenant_id, device.device_id)] = device
        self.placements[(device.tenant_id, device.device_id)] = Placement(None, device.status)

    def placed(self, tenant_id: str, device_id: str) -> Placed:
        if (tenant_id, device_id) not in self.devices:
            raise NotFound(f"device {device_id} not found", field="device_id")
        placement = self.placements[(tenant_id, device_id)]
        device = self.devices[(tenant_id, device_id)].model_copy(
            update={"site_id": placement.site_id, "status": placement.status, "next_wake_at": placement.next_wake_at})
        return Placed(device, placement)

    def move(self, tenant_id: str, device_id: str, current: Placement, new: Placement,
             schedule_version: int | None = None) -> MoveResult:
        if self.placements.get((tenant_id, device_id)) != current:
            return MoveResult.DEVICE_CHANGED
        if new.site_id and new.site_id != current.site_id:
            target = self.sites.sites.get((tenant_id, new.site_id))
            if target is None or schedule_version not in (None, target.schedule_version):
                return MoveResult.SITE_CHANGED
        if new.site_id != current.site_id:
            self.sites.count(tenant_id, new.site_id, 1)
            self.sites.count(tenant_id, current.site_id, -1)
        self.placements[(tenant_id, device_id)] = new
        return MoveResult.MOVED

    def set_wake(self, tenant_id: str, device_id: str, mapping_id: str | None, next_wake_at: datetime,
                 version: int) -> bool:
        placement = self.placements[(tenant_id, device_id)]
        if placement.mapping_id != mapping_id or (placement.wake_version or 0) > version:
            return False
        self.placements[(tenant_id, device_id)] = _with_wake(placement, next_wake_at, version)
        return True

    def members_page(self, tenant_id: str, site_id: str, cursor: str,
                     limit: int) -> tuple[list[SiteMember], str | None]:
        ids = sorted(d for (t, d), p in self.placements.items() if t == tenant_id and p.site_id == site_id)
        after = [d for d in ids if d > cursor]
        page = after[:limit]
        members = [SiteMember(d, self.placements[(tenant_id, d)].status) for d in page]
        return members, (page[-1] if len(after) > limit else None)

    def set_site_wake(self, tenant_id: str, site_id: str, device_ids: list[str], next_wake_at: datetime,
                      version: int) -> dict[str, str | None]:
        written: dict[str, str | None] = {}
        for device_id in device_ids:
            placement = self.placements[(tenant_id, device_id)]
            if placement.site_id == site_id and (placement.wake_version or 0) <= version:
                self.placements[(tenant_id, device_id)] = _with_wake(placement, next_wake_at, version)
                written[device_id] = placement.mapping_id
        return written

    def set_enabled(self, tenant_id: str, device_id: str, enabled: bool) -> Device:
        placement = self.placements[(tenant_id, device_id)]
        mapped = DeviceStatus.ACTIVE if placement.site_id else DeviceStatus.PENDING_MAPPING
        status = mapped if enabled else DeviceStatus.DISABLED
        self.placements[(tenant_id, device_id)] = Placement(placement.site_id, status, placement.next_wake_at,
                                                            placement.mapping_id, placement.wake_version)
        return self.placed(tenant_id, device_id).device


@dataclass
class RecordingWelcomes:
    """WelcomeSender that records what the command channel would queue."""

    sent: list[tuple[str, WakeParams]] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)

    def send(self, tenant_id: str, device_id: str, params: WakeParams, created_by: str) -> str | None:
        self.sent.append((device_id, params))
        return f"cmd-{len(self.sent)}"

    def send_many(self, tenant_id: str, items: list[tuple[str, WakeParams]], created_by: str) -> list[str]:
        self.batches.append(len(items))
        self.sent += items
        return [f"cmd-{len(self.sent) - len(items) + i + 1}" for i in range(len(items))]

    def to(self, device_id: str) -> list[WakeParams]:
        return [p for d, p in self.sent if d == device_id]


def _with_wake(p: Placement, next_wake_at: datetime, version: int) -> Placement:
    return Placement(p.site_id, p.status, next_wake_at, p.mapping_id, version)


# The fakes are the ports: mypy checks them against the Protocols here, not only at a call site.
_sites: type[SiteStore] = FakeSites
_devices: type[SiteDevices] = FakeSiteDevices
_switch: type[DeviceSwitch] = FakeSiteDevices
_welcomes: type[WelcomeSender] = RecordingWelcomes
