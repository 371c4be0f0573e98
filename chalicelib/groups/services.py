"""The groups feature's long-lived objects, built on first use from the core (see core/feature.py)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.core.feature import Core
    from chalicelib.groups.service import GroupService, JoinListener
    from chalicelib.groups.store import GroupRepository


@dataclass(frozen=True)
class GroupHooks:
    """What another feature does when a device joins a group (continuous jobs); wired by the composition root."""

    on_joined: JoinListener | None = None


class GroupServices:
    """Groups and their memberships."""

    def __init__(self, core: Core) -> None:
        self._core = core

    @cached_property
    def group_repository(self) -> GroupRepository:
        from chalicelib.groups.store import GroupRepository
        return GroupRepository()

    @cached_property
    def group_service(self) -> GroupService:
        from chalicelib.groups.service import GroupService
        return GroupService(self.group_repository, on_joined=self._core.of(GroupHooks).on_joined)
