"""The sites table: one item per site, with the count of devices mapped to it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError, DoesNotExist
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.storage.base import index_meta, table_meta
from chalicelib.core.storage.cursors import Page, query_page
from chalicelib.core.storage.errors import is_condition_failure, read_or_raise, written, written_or_raise
from chalicelib.core.storage.keys import TenantPartitioned
from chalicelib.sites.schemas import Site


class SiteFanoutIndex(GlobalSecondaryIndex["SiteModel"]):
    """Sites whose schedule change has not reached every device yet, by when to resume it.

    Sparse (only such sites carry `fanout_shard`) and keys-only: the schedule reads what
    is due, never the table.
    """

    Meta = index_meta("fanout_due", KeysOnlyProjection())

    fanout_shard = NumberAttribute(hash_key=True)
    fanout_due_at = UTCDateTimeAttribute(range_key=True)


class SiteModel(TenantPartitioned, Model):
    """A site of one tenant.

    `device_count` moves in the same transaction as every mapping, so "delete only when
    empty" is one conditional delete, exact even while devices are being mapped.
    `schedule_version` moves only when the cron or timezone changes; a mapping checks it,
    so a welcome never carries a schedule that was replaced while it was being written.
    """

    Meta = table_meta("sites")

    site_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    wake_schedule_cron = UnicodeAttribute()
    timezone = UnicodeAttribute()
    program = UnicodeAttribute(null=True)
    company = UnicodeAttribute(null=True)
    device_count = NumberAttribute(default=0)
    schedule_version = NumberAttribute(default=1)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    # An unfinished fan-out of schedule `fanout_version`: the by-site index cursor after
    # the last chunk done ("" = none yet), and when the schedule may take it over (a
    # lease: the request that started it keeps pushing it forward while it works).
    fanout_version = NumberAttribute(null=True)
    fanout_cursor = UnicodeAttribute(null=True)
    fanout_shard = NumberAttribute(null=True)
    fanout_due_at = UTCDateTimeAttribute(null=True)
    # The runner holding that lease: each chunk's write and step are conditional on it.
    fanout_owner = UnicodeAttribute(null=True)
    fanout_due = SiteFanoutIndex()

    def to_record(self) -> Site:
        return Site(
            tenant_id=self.tenant_id,
            site_id=self.site_id,
            name=self.name,
            wake_schedule_cron=self.wake_schedule_cron,
            timezone=self.timezone,
            program=self.program,
            company=self.company,
            device_count=int(self.device_count or 0),
            schedule_version=int(self.schedule_version or 1),
            schedule_fanout_pending=self.fanout_version is not None,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


@dataclass(frozen=True)
class Fanout:
    """Where an unfinished schedule fan-out stands."""

    tenant_id: str
    site_id: str
    version: int
    cursor: str
    # The runner that walks it (its lease): a runner that lost it writes no further chunk.
    owner: str = ""


_UPDATABLE = {
    "name": SiteModel.name,
    "wake_schedule_cron": SiteModel.wake_schedule_cron,
    "timezone": SiteModel.timezone,
    "program": SiteModel.program,
    "company": SiteModel.company,
}


class SiteRepository:
    """All reads and writes of the sites table."""

    def create(self, site: Site) -> None:
        """Store a new site; 409 when the id is taken."""
        model = SiteModel(
            site.tenant_id, site.site_id, name=site.name, wake_schedule_cron=site.wake_schedule_cron,
            timezone=site.timezone, program=site.program, company=site.company, device_count=0,
            schedule_version=site.schedule_version, created_at=site.created_at, updated_at=site.updated_at,
        )
        written_or_raise(lambda: model.save(condition=SiteModel.site_id.does_not_exist()),
                         Conflict(f"site {site.site_id} already exists", field="site_id"))

    def get(self, tenant_id: str, site_id: str) -> Site:
        """One site of the tenant, or NotFound."""
        return read_or_raise(lambda: SiteModel.get(tenant_id, site_id, consistent_read=True).to_record(),
                             NotFound(f"site {site_id} not found", field="site_id"))

    def find(self, tenant_id: str, site_id: str) -> Site | None:
        """One site of the tenant, or None (eventually consistent: for views, not decisions)."""
        try:
            return SiteModel.get(tenant_id, site_id).to_record()
        except DoesNotExist:
            return None

    def list_page(self, tenant_id: str, limit: int, next_token: str | None) -> Page[Site]:
        """A page of the tenant's sites in id order."""
        return query_page(SiteModel, tenant_id, limit, next_token).map(SiteModel.to_record)

    def update(self, current: Site, changes: dict[str, Any], now: datetime, new_schedule: bool,
               fanout_shard: int = 0, lease: timedelta = timedelta(0), owner: str = "") -> Site:
        """Apply field changes; a new schedule bumps schedule_version, checked against `current`.

        The version check makes two concurrent schedule changes one winner and one 409,
        so the devices are never told the loser's schedule after the winner's. A new
        schedule also opens its fan-out (from the first device, leased to the caller's `owner`), in
        the same write: a crash after it leaves the fan-out for the schedule to finish.
        """
        actions: list[Any] = [SiteModel.updated_at.set(now)]
        for field, value in changes.items():
            attr = _UPDATABLE[field]
            actions.append(attr.remove() if value is None else attr.set(value))
        condition = SiteModel.site_id.exists()
        if new_schedule:
            actions += [SiteModel.schedule_version.add(1),
                        SiteModel.fanout_version.set(current.schedule_version + 1), SiteModel.fanout_cursor.set(""),
                        SiteModel.fanout_shard.set(fanout_shard), SiteModel.fanout_due_at.set(now + lease),
                        SiteModel.fanout_owner.set(owner)]
            condition &= SiteModel.schedule_version == current.schedule_version
        model = SiteModel(current.tenant_id, current.site_id)
        written_or_raise(lambda: model.update(actions=actions, condition=condition),
                         Conflict("the site's schedule changed concurrently; retry", field="site_id"))
        return model.to_record()

    def delete(self, tenant_id: str, site_id: str) -> None:
        """Delete a site no device is mapped to; 409 naming the count otherwise."""
        try:
            SiteModel(tenant_id, site_id).delete(
                condition=SiteModel.site_id.exists()
                & (SiteModel.device_count.does_not_exist() | (SiteModel.device_count == 0))
            )
        except DeleteError as exc:
            if not is_condition_failure(exc):
                raise
            site = self.get(tenant_id, site_id)
            raise Conflict(f"site {site_id} still has {site.device_count} mapped devices; unmap them first",
                           field="site_id", device_count=site.device_count) from exc

    def fanout(self, tenant_id: str, site_id: str) -> Fanout | None:
        """The site's unfinished fan-out, if any (strongly consistent)."""
        try:
            m = SiteModel.get(tenant_id, site_id, consistent_read=True,
                              attributes_to_get=["fanout_version", "fanout_cursor"])
        except DoesNotExist:
            return None
        if m.fanout_version is None:
            return None
        return Fanout(tenant_id, site_id, int(m.fanout_version), m.fanout_cursor or "")

    def advance_fanout(self, fanout: Fanout, cursor: str | None, now: datetime, lease: timedelta) -> bool:
        """Record a finished chunk (cursor None: the fan-out is done) and renew the lease.

        Conditioned on the fan-out being where the caller left it: False when a newer
        schedule replaced it or another runner moved it, and the caller must stop.
        """
        if cursor is None:
            actions: list[Any] = [SiteModel.fanout_version.remove(), SiteModel.fanout_cursor.remove(),
                                  SiteModel.fanout_shard.remove(), SiteModel.fanout_due_at.remove(),
                                  SiteModel.fanout_owner.remove()]
        else:
            actions = [SiteModel.fanout_cursor.set(cursor), SiteModel.fanout_due_at.set(now + lease)]
        return self._fanout_update(fanout, actions, SiteModel.fanout_owner == fanout.owner)

    def hold_fanout(self, fanout: Fanout, now: datetime, lease: timedelta) -> bool:
        """Before a chunk's write: renew the lease if the caller still holds it; False when it lost it meanwhile."""
        return self._fanout_update(fanout, [SiteModel.fanout_due_at.set(now + lease)],
                                   SiteModel.fanout_owner == fanout.owner)

    def claim_fanout(self, fanout: Fanout, now: datetime, lease: timedelta) -> bool:
        """Take over for `fanout.owner` a fan-out whose lease ran out (its runner died, stalled or timed out)."""
        return self._fanout_update(fanout, [SiteModel.fanout_due_at.set(now + lease),
                                            SiteModel.fanout_owner.set(fanout.owner)],
                                   SiteModel.fanout_due_at <= now)

    def due_fanouts(self, shard: int, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(tenant_id, site_id) of fan-outs in one shard whose lease ran out, oldest first."""
        return [(m.tenant_id, m.site_id)
                for m in SiteModel.fanout_due.query(shard, SiteModel.fanout_due_at <= now, limit=limit)]

    def _fanout_update(self, fanout: Fanout, actions: list[Any], extra: Any = None) -> bool:
        condition = (SiteModel.fanout_version == fanout.version) & (SiteModel.fanout_cursor == fanout.cursor)
        if extra is not None:
            condition &= extra
        return written(lambda: SiteModel(fanout.tenant_id, fanout.site_id).update(actions=actions, condition=condition))
