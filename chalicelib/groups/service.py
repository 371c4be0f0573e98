"""Groups of devices."""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.ids import new_id
from chalicelib.core.observability.log import logger
from chalicelib.core.storage.cursors import Page
from chalicelib.core.sweep import Outcome, SweepReport, SweepRunner, schedule_shard
from chalicelib.devices.schemas import CreateGroup, Group
from chalicelib.groups.store import GroupRepository

# on_joined(tenant_id, group_id, device_id): a device became a member (continuous jobs follow it).
JoinListener = Callable[[str, str, str], object]
# Group deletes are rare: a few shards of their due index are plenty.
DELETE_SHARDS = 4
DELETE_DUE_PAGE = 50
# How long a deleting run holds a delete before the schedule may take it over (renewed per chunk).
DELETE_LEASE = timedelta(minutes=2)
# A DELETE request's share of the work, well inside API Gateway's 29 s: a large group's
# remaining memberships go to the per-minute schedule (the group already reads as gone).
REQUEST_BUDGET_S = 15.0


class GroupService:
    """Group use cases, scoped by tenant."""

    def __init__(self, groups: GroupRepository, clock: Clock = utcnow, on_joined: JoinListener | None = None,
                 delete_chunk: int = 500, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._groups = groups
        self._clock = clock
        self._on_joined = on_joined
        self._delete_chunk = delete_chunk
        self._monotonic = monotonic

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
        """Delete a group and its memberships (the devices stay); returns how many memberships this call removed.

        The group is marked deleting first: if this run dies halfway, the per-minute
        schedule (or deleting it again once the run's lease is over) finishes the delete; a
        group too large for the request's budget is finished by the schedule too.
        """
        now = self._clock()
        deadline = self._monotonic() + REQUEST_BUDGET_S
        self._groups.start_delete(tenant_id, group_id, schedule_shard(group_id, DELETE_SHARDS), now,
                                  now + DELETE_LEASE)
        return self._delete_members(tenant_id, group_id, deadline)[1]

    def resume_deletes(self, now: datetime, budget_s: float) -> SweepReport:
        """The scheduled work: finish every group delete whose run went quiet."""
        deadline = self._monotonic() + budget_s

        def resume(due: tuple[str, str]) -> Outcome:
            tenant_id, group_id = due
            if not self._groups.claim_delete(tenant_id, group_id, now, max(now, self._clock()) + DELETE_LEASE):
                return Outcome.SKIPPED  # finished, or another run took it meanwhile
            try:
                done, _ = self._delete_members(tenant_id, group_id, deadline)
            except Exception:  # one delete's failure must not hold up the others; its lease retries it
                logger.exception("resumed group delete failed; retried when its lease ends", tenant=tenant_id,
                                 group_id=group_id, outcome="failed")
                return Outcome.LEFT
            return Outcome.DONE if done else Outcome.LEFT

        runner = SweepRunner(DELETE_SHARDS, self._monotonic)
        return runner.run(SweepReport(), lambda shard: self._groups.deletes_due(shard, now, DELETE_DUE_PAGE), resume,
                          key="/".join, deadline=deadline, progress_first=True)

    def _delete_members(self, tenant_id: str, group_id: str, deadline: float) -> tuple[bool, int]:
        """Delete the memberships chunk by chunk, then the group: (finished, memberships removed)."""
        removed = 0
        while True:
            count = self._groups.delete_members(tenant_id, group_id, self._delete_chunk)
            removed += count
            if count < self._delete_chunk:
                self._groups.finish_delete(tenant_id, group_id)
                return True, removed
            if self._monotonic() >= deadline:
                # Out of time: hand the lease on, so the next scheduled run goes on at once.
                self._groups.renew_delete(tenant_id, group_id, self._clock())
                return False, removed
            # Still at work: hold the delete for another lease (a second run would only repeat idempotent deletes).
            self._groups.renew_delete(tenant_id, group_id, self._clock() + DELETE_LEASE)

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
