"""Firmware artifacts and the fleet's version counters in DynamoDB."""
from __future__ import annotations

from datetime import datetime
from functools import partial

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.storage.base import table_meta
from chalicelib.core.storage.cursors import Page, query_page
from chalicelib.core.storage.errors import read_or_raise, written, written_or_raise
from chalicelib.core.storage.keys import TenantPartitioned, tenant_key
from chalicelib.firmware.schemas import Firmware, FirmwareStatus

FLEET_SCOPE = "fleet"
# The counter of versions a scope has no room for, and of versions too long to be counted by name.
OTHER_VERSIONS = "(other)"


def group_scope(group_id: str) -> str:
    """The counter scope of one group."""
    return f"group:{group_id}"


class FirmwareModel(TenantPartitioned, Model):
    """One firmware artifact of a tenant; its object lives at `object_key` in the stage's bucket."""

    Meta = table_meta("firmware")

    firmware_id = UnicodeAttribute(range_key=True)
    version = UnicodeAttribute()
    device_model = UnicodeAttribute()
    notes = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    object_key = UnicodeAttribute()
    declared_size_bytes = NumberAttribute(null=True)
    max_size_bytes = NumberAttribute()
    declared_sha256 = UnicodeAttribute(null=True)
    size_bytes = NumberAttribute(null=True)
    sha256 = UnicodeAttribute(null=True)
    object_version = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(null=True)
    completed_at = UTCDateTimeAttribute(null=True)
    in_use_until = UTCDateTimeAttribute(null=True)

    def to_record(self) -> Firmware:
        return Firmware(
            tenant_id=self.tenant_id, firmware_id=self.firmware_id, version=self.version,
            device_model=self.device_model, notes=self.notes, status=FirmwareStatus(self.status),
            declared_size_bytes=_int(self.declared_size_bytes), max_size_bytes=int(self.max_size_bytes),
            declared_sha256=self.declared_sha256, size_bytes=_int(self.size_bytes), sha256=self.sha256,
            reason=self.reason, created_at=self.created_at, created_by=self.created_by,
            completed_at=self.completed_at, in_use_until=self.in_use_until, object_version=self.object_version,
        )


class VersionCountModel(Model):
    """How many devices of one scope (the fleet, a group) report one firmware version (a counter)."""

    Meta = table_meta("firmware-versions")

    scope_key = UnicodeAttribute(hash_key=True)  # tenant_key(tenant, "fleet" | "group:{id}")
    version = UnicodeAttribute(range_key=True)
    devices = NumberAttribute(default=0)


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


class FirmwareRepository:
    """All reads and writes of artifacts; every state change is a conditional write."""

    def create(self, firmware: Firmware, object_key: str) -> None:
        """Store a new artifact, waiting for its upload."""
        model = FirmwareModel(
            firmware.tenant_id, firmware.firmware_id, version=firmware.version, device_model=firmware.device_model,
            notes=firmware.notes, status=firmware.status.value, object_key=object_key,
            declared_size_bytes=firmware.declared_size_bytes, max_size_bytes=firmware.max_size_bytes,
            declared_sha256=firmware.declared_sha256, created_at=firmware.created_at, created_by=firmware.created_by,
        )
        written_or_raise(lambda: model.save(condition=FirmwareModel.firmware_id.does_not_exist()),
                         Conflict(f"firmware {firmware.firmware_id} already exists", field="firmware_id"))

    def get(self, tenant_id: str, firmware_id: str) -> tuple[Firmware, str]:
        """The artifact and its object key, or NotFound (a foreign id is just as missing)."""
        model = read_or_raise(lambda: FirmwareModel.get(tenant_id, firmware_id, consistent_read=True),
                              NotFound(f"firmware {firmware_id} not found", field="firmware_id"))
        return model.to_record(), model.object_key

    def batch_get(self, tenant_id: str, firmware_ids: list[str]) -> dict[str, tuple[Firmware, str]]:
        """Several artifacts of one tenant in one request (the resolver's read per delivery)."""
        found = FirmwareModel.batch_get([(tenant_id, f) for f in dict.fromkeys(firmware_ids)])
        return {m.firmware_id: (m.to_record(), m.object_key) for m in found}

    def list_page(self, tenant_id: str, limit: int, next_token: str | None,
                  status: FirmwareStatus | None = None) -> Page[Firmware]:
        """A page of the tenant's artifacts, oldest first (ids are time-ordered)."""
        condition = FirmwareModel.status == status.value if status is not None else None
        return query_page(FirmwareModel, tenant_id, limit, next_token,
                          filter_condition=condition).map(FirmwareModel.to_record)

    def complete(self, firmware: Firmware) -> bool:
        """pending_upload -> ready or rejected, with what was measured; False when it was completed already."""
        model = FirmwareModel(firmware.tenant_id, firmware.firmware_id)
        actions: list[Action] = [FirmwareModel.status.set(firmware.status.value)]
        if firmware.completed_at is not None:
            actions.append(FirmwareModel.completed_at.set(firmware.completed_at))
        if firmware.size_bytes is not None:
            actions.append(FirmwareModel.size_bytes.set(firmware.size_bytes))
        for attribute, value in ((FirmwareModel.sha256, firmware.sha256), (FirmwareModel.reason, firmware.reason),
                                 (FirmwareModel.object_version, firmware.object_version)):
            if value is not None:
                actions.append(attribute.set(value))
        return written(lambda: model.update(
            actions=actions, condition=FirmwareModel.status == FirmwareStatus.PENDING_UPLOAD.value))

    def hold(self, tenant_id: str, firmware_id: str, until: datetime) -> bool:
        """Mark a ready artifact in use until `until` (kept when already later); False when it is not ready."""
        model = FirmwareModel(tenant_id, firmware_id)
        ready = FirmwareModel.status == FirmwareStatus.READY.value
        later = FirmwareModel.in_use_until.does_not_exist() | (FirmwareModel.in_use_until < until)
        if written(lambda: model.update(actions=[FirmwareModel.in_use_until.set(until)], condition=ready & later)):
            return True
        # Refused: either held until later already (fine) or not ready (the caller's 4xx).
        return self._is_ready(tenant_id, firmware_id)

    def _is_ready(self, tenant_id: str, firmware_id: str) -> bool:
        try:
            return self.get(tenant_id, firmware_id)[0].status is FirmwareStatus.READY
        except NotFound:
            return False

    def delete(self, tenant_id: str, firmware_id: str, now: datetime) -> str:
        """Delete an artifact no job or command holds any more; returns its object key."""
        key = self.get(tenant_id, firmware_id)[1]
        free = FirmwareModel.in_use_until.does_not_exist() | (FirmwareModel.in_use_until <= now)
        if not written(lambda: FirmwareModel(tenant_id, firmware_id).delete(
                condition=FirmwareModel.firmware_id.exists() & free)):
            current, _ = self.get(tenant_id, firmware_id)
            until = current.in_use_until.isoformat() if current.in_use_until else None
            raise Conflict(f"firmware {firmware_id} is used by a job or command until {until}",
                           field="firmware_id", in_use_until=until)
        return key

    # Version counters

    def count_version(self, tenant_id: str, scopes: list[str], before: str | None, after: str | None,
                      cap: int = 200) -> None:
        """Move one device from `before` to `after` in every scope (ADD is atomic).

        A version first seen in a scope holding `cap` versions already is counted under
        OTHER_VERSIONS; a counter that falls to zero is deleted, so rows stay about `cap`.
        """
        for scope in scopes:
            key = tenant_key(tenant_id, scope)
            if before:
                self._uncount(key, before)
            if after:
                self._count(key, after, cap)

    @staticmethod
    def _count(key: str, version: str, cap: int) -> None:
        row = VersionCountModel(key, version)
        if written(lambda: row.update(actions=[VersionCountModel.devices.add(1)],
                                      condition=VersionCountModel.version.exists())):
            return
        # A new row: one Query counting at most cap + 1 keys (a race may pass the cap by a few).
        if version != OTHER_VERSIONS and VersionCountModel.count(key, limit=cap + 1) >= cap:
            row = VersionCountModel(key, OTHER_VERSIONS)
        row.update(actions=[VersionCountModel.devices.add(1)])

    @staticmethod
    def _uncount(key: str, version: str) -> None:
        positive = VersionCountModel.version.exists() & (VersionCountModel.devices > 0)
        for row in (VersionCountModel(key, version), VersionCountModel(key, OTHER_VERSIONS)):
            # A version counted under OTHER_VERSIONS (the scope was full) has no row of its own.
            if written(partial(row.update, actions=[VersionCountModel.devices.add(-1)], condition=positive)):
                if int(row.devices or 0) <= 0:
                    written(partial(row.delete, condition=VersionCountModel.devices <= 0))
                return

    def version_counts(self, tenant_id: str, scope: str) -> dict[str, int]:
        """Devices per version in one scope (one Query of its counters; zero counts left out)."""
        return {m.version: int(m.devices) for m in VersionCountModel.query(tenant_key(tenant_id, scope))
                if int(m.devices or 0) > 0}
