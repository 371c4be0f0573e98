"""A group delete that dies halfway is finished by the per-minute schedule: no membership is left behind."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.container import container
from chalicelib.core.clock import utcnow
from chalicelib.groups.service import GroupService
from chalicelib.groups.store import GroupRepository
from tests.support import Api


class DiesAfterFirstChunk(GroupRepository):
    """The group repository, but the function dies after it removed the first chunk of memberships."""

    chunks = 0

    def delete_members(self, tenant_id: str, group_id: str, limit: int) -> int:
        if self.chunks == 1:
            raise RuntimeError("the function died here")
        self.chunks += 1
        return super().delete_members(tenant_id, group_id, limit)


def test_a_delete_that_died_halfway_is_finished_by_the_schedule(api: Api) -> None:
    # Given a group of 5 devices, deleted 2 memberships at a time by a run that dies after the first 2
    devices = [api.create_device(f"gd-{i}")[0] for i in range(5)]
    assert api.post("/customer/groups", {"group_id": "doomed", "name": "D"}).status == 201
    for device_id in devices:
        assert api.put(f"/customer/groups/doomed/members/{device_id}").status == 201
    dying = GroupService(DiesAfterFirstChunk(), delete_chunk=2)
    with pytest.raises(RuntimeError):
        dying.delete(api.tenant_id, "doomed")
    # Then the group is gone for its operator, and no device can join it meanwhile
    assert api.get("/customer/groups/doomed").status == 404
    assert "doomed" not in [g["group_id"] for g in api.get("/customer/groups").body["groups"]]
    assert api.put(f"/customer/groups/doomed/members/{devices[0]}").status == 404
    # But 3 memberships are still stored
    repository = container().group_repository
    assert sum("doomed" in repository.groups_of(api.tenant_id, d) for d in devices) == 3
    # When the schedule runs before the deleting run's lease ends, then after it
    service = GroupService(GroupRepository(), delete_chunk=2)
    assert service.resume_deletes(utcnow(), budget_s=60).done == 0
    report = service.resume_deletes(utcnow() + timedelta(minutes=5), budget_s=60)
    # Then it finishes the delete: no membership is left, and the id can be used again
    assert (report.done, report.left) == (1, 0)
    assert not any("doomed" in repository.groups_of(api.tenant_id, d) for d in devices)
    assert api.post("/customer/groups", {"group_id": "doomed", "name": "D2"}).status == 201
    assert api.get("/customer/groups/doomed").body["member_count"] == 0


def test_deleting_again_a_group_whose_delete_died_finishes_it(api: Api) -> None:
    # Given a delete that died after its first chunk
    devices = [api.create_device(f"ga-{i}")[0] for i in range(3)]
    assert api.post("/customer/groups", {"group_id": "again", "name": "A"}).status == 201
    for device_id in devices:
        assert api.put(f"/customer/groups/again/members/{device_id}").status == 201
    with pytest.raises(RuntimeError):
        GroupService(DiesAfterFirstChunk(), delete_chunk=1).delete(api.tenant_id, "again")
    # When the operator deletes it again once its run's lease is over
    later = GroupService(GroupRepository(), clock=lambda: utcnow() + timedelta(minutes=5), delete_chunk=1)
    assert later.delete(api.tenant_id, "again") == 2
    # Then the delete is finished
    assert not any("again" in container().group_repository.groups_of(api.tenant_id, d) for d in devices)


def test_a_delete_request_does_a_bounded_share_and_the_schedule_the_rest(api: Api) -> None:
    # Given a group of 3 devices, and a DELETE whose time budget is spent after one chunk of 1
    devices = [api.create_device(f"gb-{i}")[0] for i in range(3)]
    assert api.post("/customer/groups", {"group_id": "big", "name": "B"}).status == 201
    for device_id in devices:
        assert api.put(f"/customer/groups/big/members/{device_id}").status == 201
    ticks = iter(range(0, 10_000, 100))
    slow = GroupService(GroupRepository(), delete_chunk=1, monotonic=lambda: float(next(ticks)))
    # When the operator deletes it
    removed = slow.delete(api.tenant_id, "big")
    # Then the request answers after its share (not after every membership), and the group is gone for the operator
    assert removed == 1
    assert api.get("/customer/groups/big").status == 404
    repository = container().group_repository
    assert sum("big" in repository.groups_of(api.tenant_id, d) for d in devices) == 2
    # And the next scheduled run takes the rest at once (the request handed its lease on)
    report = GroupService(GroupRepository(), delete_chunk=1).resume_deletes(utcnow() + timedelta(seconds=1), 60)
    assert (report.done, report.left) == (1, 0)
    assert not any("big" in repository.groups_of(api.tenant_id, d) for d in devices)
