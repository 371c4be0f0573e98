"""Where a batch's members come from: a group's memberships or a site's by-site index."""
from __future__ import annotations

from chalicelib.commands.batches.service import MemberPage
from chalicelib.devices.schemas import DeviceStatus
from chalicelib.groups.store import GroupRepository
from chalicelib.jobs.targets import TargetReader
from chalicelib.sites.device_store import SiteDeviceRepository
from chalicelib.sites.store import SiteRepository


class GroupMembers:
    """A group's members in id order; their status is read in batches (memberships do not carry it)."""

    def __init__(self, groups: GroupRepository, reader: TargetReader) -> None:
        self._groups = groups
        self._reader = reader

    def check(self, tenant_id: str, target_id: str) -> None:
        """NotFound (field group_id) for a missing or foreign group."""
        self._groups.get(tenant_id, target_id)

    def page(self, tenant_id: str, target_id: str, cursor: str, limit: int) -> MemberPage:
        """A page of (device_id, enabled) after `cursor`."""
        page = self._groups.members(tenant_id, target_id, limit, cursor or None)
        enabled = set(self._reader.enabled(tenant_id, page.items))
        return [(d, d in enabled) for d in page.items], page.next_token


class SiteMembers:
    """A site's devices from the by-site index, which carries each one's status."""

    def __init__(self, sites: SiteRepository, site_devices: SiteDeviceRepository) -> None:
        self._sites = sites
        self._site_devices = site_devices

    def check(self, tenant_id: str, target_id: str) -> None:
        """NotFound (field site_id) for a missing or foreign site."""
        self._sites.get(tenant_id, target_id)

    def page(self, tenant_id: str, target_id: str, cursor: str, limit: int) -> MemberPage:
        """A page of (device_id, enabled) after `cursor`."""
        members, after = self._site_devices.members_page(tenant_id, target_id, cursor, limit)
        return [(m.device_id, m.status is not DeviceStatus.DISABLED) for m in members], after
