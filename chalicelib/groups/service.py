"""Groups of devices."""
from __future__ import annotations

from collections.abc import Callable

from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.ids import new_id
from chalicelib.core.observability.log import logger
from chalicelib.core.storage.cursors import Page
from chalicelib.devices.schemas import CreateGroup, Group
from chalicelib.groups.store import GroupRepository

# on_joined(tenant_id, group_id, device_id): a device became a member (continuous jobs follow it).
JoinListener = Callable[[str, str, str], object]


class GroupService:
    """Group use cases, scoped by tenant."""

    def __init__(self, groups: GroupRepository, clock: Clock = utcnow, on_joined: JoinListener | None = None) -> None:
        self._groups = groups
        self._clock = clock
        self._on_joined = on_joined

    def create(self, tenant_id: str, request: CreateGroup) -> Group:
        """Create a group (id given or generated)."""
        group = Group(
            tenant_id=tenant_id,
            group_id=request.group_id or new_id("grp"),
            name=request.name,
            description=request.description,
            created_at=self._clock(),
        )
        self._groups.create(group)
        return group

    def get(self, tenant_id: str, group_id: str) -> Group:
        """One group (404 for foreign or missing)."""
        return self._groups.get(tenant_id, group_id)

    def list_page(self, tenant_id: str, limit: int, next_token: str | None) -> Page[Group]:
        """A page of groups."""
        return self._groups.list_page(tenant_id, limit, next_token)

    def members(self, tenant_id: str, group_id: str, limit: int, next_token: str | None) -> Page[str]:
        """A page of member ids of a group that must exist."""
        self._groups.get(tenant_id, group_id)
        return self._groups.members(tenant_id, group_id, limit, next_token)

    def delete(self, tenant_id: str, group_id: str) -> int:
        """Delete a group and its memberships (the devices stay); returns the member count."""
        return self._groups.delete(tenant_id, group_id)

    def add_member(self, tenant_id: str, group_id: str, device_id: str) -> bool:
        """Add a device of the same tenant; False when it already was a member."""
        added = self._groups.add_member(tenant_id, group_id, device_id, self._clock())
        if added and self._on_joined is not None:
            try:
                self._on_joined(tenant_id, group_id, device_id)
            except Exception:  # the membership is stored; a listener's failure must not undo the answer
                logger.warning("join listener failed", tenant=tenant_id, group_id=group_id, device=device_id,
                               outcome="failed", exc_info=True)
        return added

    def remove_member(self, tenant_id: str, group_id: str, device_id: str) -> None:
        """Remove a member."""
        self._groups.remove_member(tenant_id, group_id, device_id)
