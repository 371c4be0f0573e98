"""What the site services need from storage and from the devices feature, so tests can give them fakes."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from chalicelib.core.storage.cursors import Page
from chalicelib.devices.schemas import Device
from chalicelib.sites.device_store import MoveResult, Placed, Placement, SiteMember
from chalicelib.sites.schemas import Site
from chalicelib.sites.store import Fanout


class SiteStore(Protocol):
    """Sites, their schedule version and the state of an unfinished schedule fan-out."""

    def create(self, site: Site) -> None:
        """Store a new site; 409 when the id is taken."""
        ...

    def get(self, tenant_id: str, site_id: str) -> Site:
        """One site of the tenant, or NotFound."""
        ...

    def list_page(self, tenant_id: str, limit: int, next_token: str | None) -> Page[Site]:
        """A page of the tenant's sites in id order."""
        ...

    def update(self, current: Site, changes: dict[str, Any], now: datetime, new_schedule: bool,
               fanout_shard: int = 0, lease: timedelta = timedelta(0), owner: str = "") -> Site:
        """Apply field changes; a new schedule bumps schedule_version and opens its fan-out, leased to `owner`."""
        ...

    def delete(self, tenant_id: str, site_id: str) -> None:
        """Delete a site no device is mapped to; 409 otherwise."""
        ...

    def fanout(self, tenant_id: str, site_id: str) -> Fanout | None:
        """The site's unfinished fan-out, if any."""
        ...

    def advance_fanout(self, fanout: Fanout, cursor: str | None, now: datetime, lease: timedelta) -> bool:
        """Record a finished chunk (cursor None: done); False when the fan-out moved on without the caller."""
        ...

    def hold_fanout(self, fanout: Fanout, now: datetime, lease: timedelta) -> bool:
        """Renew the lease before a chunk's write; False when the caller no longer holds it."""
        ...

    def claim_fanout(self, fanout: Fanout, now: datetime, lease: timedelta) -> bool:
        """Take over for `fanout.owner` a fan-out whose lease ran out."""
        ...

    def due_fanouts(self, shard: int, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(tenant_id, site_id) of fan-outs in one shard whose lease ran out."""
        ...


class SiteDevices(Protocol):
    """Devices as placed on sites: moved between them, their next wake times."""

    def placed(self, tenant_id: str, device_id: str) -> Placed:
        """The device and its current placement, or NotFound."""
        ...

    def move(self, tenant_id: str, device_id: str, current: Placement, new: Placement,
             schedule_version: int | None = None) -> MoveResult:
        """Move the device from `current` to `new`, with both sites' counts."""
        ...

    def set_wake(self, tenant_id: str, device_id: str, mapping_id: str | None, next_wake_at: datetime,
                 version: int) -> bool:
        """Store a next wake if the mapping is unchanged and no newer schedule is stored."""
        ...

    def members_page(self, tenant_id: str, site_id: str, cursor: str,
                     limit: int) -> tuple[list[SiteMember], str | None]:
        """Up to `limit` devices of the site after `cursor`, and the cursor after them (None at the end)."""
        ...

    def set_site_wake(self, tenant_id: str, site_id: str, device_ids: list[str], next_wake_at: datetime,
                      version: int) -> dict[str, str | None]:
        """Store schedule `version`'s next wake on devices still on the site; device_id -> mapping_id written."""
        ...


class DeviceSwitch(Protocol):
    """The devices feature's enable/disable."""

    def set_enabled(self, tenant_id: str, device_id: str, enabled: bool) -> Device:
        """Disable or re-enable a device."""
        ...
