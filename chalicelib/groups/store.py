"""Device groups and their memberships.

A group is deleted in steps that survive a crash: it is first marked deleting (it then
carries `due_shard`/`due_at`, the sparse due index the per-minute schedule reads, and reads
see it as gone), its memberships are deleted chunk by chunk, and the group item goes last.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.storage.base import connection, index_meta, table_meta
from chalicelib.core.storage.batch import BatchWriter, model_sender
from chalicelib.core.storage.cursors import Page, query_page
from chalicelib.core.storage.due import DueIndex, DueKeys
from chalicelib.core.storage.errors import failed_conditions, read_or_raise, written, written_or_raise
from chalicelib.core.storage.keys import TenantPartitioned, tenant_key
from chalicelib.devices.models import DeviceModel
from chalicelib.devices.schemas import Group

# Partition key of a group's memberships.
member_key = tenant_key
# Partition key of a device's memberships in the by-device index.
device_key = tenant_key


class DeleteDue(DueIndex["GroupModel"]):
    """Groups being deleted, by when their deleting run's lease ends."""

    Meta = index_meta("delete_due", KeysOnlyProjection())


class GroupModel(TenantPartitioned, DueKeys, Model):
    """A group of one tenant; while it carries DueKeys it is being deleted."""

    Meta = table_meta("groups")

    group_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    member_count = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    delete_due = DeleteDue()

    def to_record(self) -> Group:
        return Group(
            tenant_id=self.tenant_id,
            group_id=self.group_id,
            name=self.name,
            description=self.description,
            member_count=int(self.member_count or 0),
            created_at=self.created_at,
        )


class MembershipByDevice(GlobalSecondaryIndex["MembershipModel"]):
    """The groups a device belongs to."""

    Meta = index_meta("by_device", AllProjection())

    device_key = UnicodeAttribute(hash_key=True)
    group_id = UnicodeAttribute(range_key=True)


class MembershipModel(Model):
    """One device in one group."""

    Meta = table_meta("group-members")

    group_key = UnicodeAttribute(hash_key=True)
    device_id = UnicodeAttribute(range_key=True)
    device_key = UnicodeAttribute()
    group_id = UnicodeAttribute()
    added_at = UTCDateTimeAttribute()
    by_device = MembershipByDevice()


# A group not being deleted.
_LIVE = GroupModel.due_shard.does_not_exist()


class GroupRepository:
    """All reads and writes of groups and memberships."""

    def create(self, group: Group) -> None:
        """Store a new group; 409 when the id is taken."""
        model = GroupModel(
            group.tenant_id, group.group_id, name=group.name, description=group.description,
            member_count=0, created_at=group.created_at,
        )
        written_or_raise(lambda: model.save(condition=GroupModel.group_id.does_not_exist()),
                         Conflict(f"group {group.group_id} already exists", field="group_id"))

    def get(self, tenant_id: str, group_id: str) -> Group:
        """One group of the tenant, or NotFound (also while it is being deleted)."""
        found = read_or_raise(lambda: GroupModel.get(tenant_id, group_id, consistent_read=True),
                              NotFound(f"group {group_id} not found", field="group_id"))
        if found.due_shard is not None:
            raise NotFound(f"group {group_id} not found", field="group_id")
        return found.to_record()

    def list_page(self, tenant_id: str, limit: int, next_token: str | None) -> Page[Group]:
        """A page of the tenant's groups in id order (none being deleted)."""
        return query_page(GroupModel, tenant_id, limit, next_token,
                          filter_condition=_LIVE).map(GroupModel.to_record)

    def start_delete(self, tenant_id: str, group_id: str, shard: int, now: datetime, until: datetime) -> None:
        """Mark the group deleting, leased until `until`; a delete whose run died (lease over by `now`) is taken over.

        NotFound for a missing group, or one another run is deleting now. From here on no
        membership can be added (add_member is conditioned on a live group).
        """
        condition = GroupModel.group_id.exists() & (_LIVE | (GroupModel.due_at <= now))
        written_or_raise(lambda: GroupModel(tenant_id, group_id).update(
            actions=[GroupModel.due_shard.set(shard), GroupModel.due_at.set(until)], condition=condition),
            NotFound(f"group {group_id} not found", field="group_id"))

    def claim_delete(self, tenant_id: str, group_id: str, now: datetime, until: datetime) -> bool:
        """Take over, leased until `until`, a delete whose lease ran out by `now`; False when another run has it."""
        return written(lambda: GroupModel(tenant_id, group_id).update(
            actions=[GroupModel.due_at.set(until)], condition=GroupModel.due_at <= now))

    def renew_delete(self, tenant_id: str, group_id: str, until: datetime) -> None:
        """Hold a delete in progress until `until`."""
        written(lambda: GroupModel(tenant_id, group_id).update(
            actions=[GroupModel.due_at.set(until)], condition=GroupModel.due_shard.exists()))

    def delete_members(self, tenant_id: str, group_id: str, limit: int) -> int:
        """Delete up to `limit` memberships of a group being deleted; returns how many (fewer: none are left)."""
        key = member_key(tenant_id, group_id)
        members = [{"group_key": {"S": key}, "device_id": {"S": m.device_id}}
                   for m in MembershipModel.query(key, consistent_read=True, limit=limit, page_size=limit,
                                                  attributes_to_get=["device_id"])]
        BatchWriter(model_sender(MembershipModel)).write(deletes=members)
        return len(members)

    def finish_delete(self, tenant_id: str, group_id: str) -> None:
        """Remove the group item once its memberships are gone (a run that finished first already did)."""
        written(lambda: GroupModel(tenant_id, group_id).delete(condition=GroupModel.due_shard.exists()))

    def deletes_due(self, shard: int, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(tenant_id, group_id) of the deletes in one shard whose run's lease ran out, oldest first."""
        return [(m.tenant_id, m.group_id)
                for m in GroupModel.delete_due.query(shard, GroupModel.due_at <= now, limit=limit)]

    def add_member(self, tenant_id: str, group_id: str, device_id: str, now: datetime) -> bool:
        """Add a device; False when it was already a member (idempotent PUT)."""
        membership = MembershipModel(
            member_key(tenant_id, group_id), device_id,
            device_key=device_key(tenant_id, device_id), group_id=group_id, added_at=now,
        )
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.update(GroupModel(tenant_id, group_id), actions=[GroupModel.member_count.add(1)],
                          condition=GroupModel.group_id.exists() & _LIVE)
                tx.condition_check(DeviceModel, tenant_id, device_id, condition=DeviceModel.device_id.exists())
                tx.save(membership, condition=MembershipModel.device_id.does_not_exist())
        except TransactWriteError as exc:
            # PynamoDB sends condition checks, deletes, puts, then updates, whatever the call order.
            failed = failed_conditions(exc)
            if 2 in failed:
                raise NotFound(f"group {group_id} not found", field="group_id") from exc
            if 0 in failed:
                raise NotFound(f"device {device_id} not found", field="device_id") from exc
            if 1 in failed:
                return False
            raise
        return True

    def remove_member(self, tenant_id: str, group_id: str, device_id: str) -> None:
        """Remove a device from a group; NotFound when it was not a member."""
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.delete(MembershipModel(member_key(tenant_id, group_id), device_id),
                          condition=MembershipModel.device_id.exists())
                tx.update(GroupModel(tenant_id, group_id), actions=[GroupModel.member_count.add(-1)],
                          condition=GroupModel.group_id.exists())
        except TransactWriteError as exc:
            raise NotFound(f"device {device_id} is not a member of group {group_id}", field="device_id") from exc

    def members(self, tenant_id: str, group_id: str, limit: int, next_token: str | None) -> Page[str]:
        """A page of member device ids, in id order."""
        page = query_page(MembershipModel, member_key(tenant_id, group_id), limit, next_token)
        return page.map(lambda m: m.device_id)

    def iter_members(self, tenant_id: str, group_id: str) -> Iterator[str]:
        """Every member id, page by page (for fan-outs that snapshot a group)."""
        # No page size: DynamoDB's 1 MB pages hold thousands of memberships, one Query each.
        for m in MembershipModel.query(member_key(tenant_id, group_id), attributes_to_get=["device_id"]):
            yield m.device_id

    def groups_of(self, tenant_id: str, device_id: str) -> list[str]:
        """Ids of the groups a device belongs to."""
        return [m.group_id for m in MembershipModel.by_device.query(device_key(tenant_id, device_id))]

    def forget_device(self, tenant_id: str, device_id: str) -> int:
        """Remove a deleted device from every group it was in; returns how many."""
        removed = 0
        for group_id in self.groups_of(tenant_id, device_id):
            try:
                self.remove_member(tenant_id, group_id, device_id)
                removed += 1
            except NotFound:
                continue
        return removed
