"""Device twin reads and writes on the device item (one conditional UpdateItem per write)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.core.errors import NotFound
from chalicelib.core.storage.errors import read_or_raise, written
from chalicelib.devices.models import TWIN_ATTRIBUTES, DeviceModel
from chalicelib.twin.schemas import Twin

# The twin plus what the twin view shows about the device (presence).
TWIN_READ = sorted(TWIN_ATTRIBUTES | {"tenant_id", "device_id", "last_seen_at"})


class TwinRepository:
    """Optimistic concurrency per document: a write applies only to the document it was computed from.

    Desired writes are conditioned on `desired_version` (each one bumps it), reported
    writes on `reported_revision` (each one bumps it; reported_version moves only when a
    device confirms a version). The two documents never conflict with each other, so a
    chatty device does not make an operator's PATCH retry, nor the other way round.
    """

    def get(self, tenant_id: str, device_id: str) -> Twin:
        """The device's twin (strongly consistent: its revision conditions the next write)."""
        model = read_or_raise(
            lambda: DeviceModel.get(tenant_id, device_id, consistent_read=True, attributes_to_get=TWIN_READ),
            NotFound(f"device {device_id} not found", field="device_id"))
        return Twin(
            tenant_id=model.tenant_id,
            device_id=model.device_id,
            desired=model.twin_desired or {},
            reported=model.twin_reported or {},
            desired_version=int(model.desired_version or 0),
            reported_version=int(model.reported_version or 0),
            desired_metadata=model.desired_metadata or {},
            reported_metadata=model.reported_metadata or {},
            shadow_updated_at=model.shadow_updated_at,
            last_seen_at=model.last_seen_at,
            reported_revision=int(model.reported_revision or 0),
            shadow_version=int(model.shadow_version or 0),
        )

    def write_desired(self, read: Twin, desired: dict[str, Any], metadata: dict[str, Any], version: int,
                      now: datetime) -> bool:
        """Store a new desired document; False when desired changed since `read`."""
        unchanged = _still(DeviceModel.desired_version, read.desired_version)
        return self._write(read, now, unchanged, [*_desired(desired, metadata, version),
                                                  _pending(read.tenant_id, version, read.reported_version)])

    def write_reported(self, read: Twin, reported: dict[str, Any], metadata: dict[str, Any], version: int,
                       now: datetime) -> bool:
        """Store a new reported document; False when reported changed since `read`."""
        unchanged = _still(DeviceModel.reported_revision, read.reported_revision)
        return self._write(read, now, unchanged, [*_reported(reported, metadata, version, read.reported_revision + 1),
                                                  _pending(read.tenant_id, read.desired_version, version)])

    def write_document(self, read: Twin, written: Twin, now: datetime) -> bool:
        """Store both documents as AWS IoT writes them: False when anything changed since `read`.

        Conditioned on shadow_version, which every write bumps. The per-document counters
        still move, so the project's own reads and writes see the change.
        """
        unchanged = _still(DeviceModel.shadow_version, read.shadow_version)
        return self._write(read, now, unchanged, [
            *_desired(written.desired, written.desired_metadata, written.desired_version),
            *_reported(written.reported, written.reported_metadata, written.reported_version,
                       written.reported_revision),
            _pending(read.tenant_id, written.desired_version, written.reported_version),
        ])

    @staticmethod
    def _write(read: Twin, now: datetime, unchanged: Condition, actions: list[Action]) -> bool:
        return written(lambda: DeviceModel(read.tenant_id, read.device_id).update(
            actions=[*actions, DeviceModel.shadow_updated_at.set(now), DeviceModel.shadow_version.add(1)],
            # device_id: a device deleted since the read must not be resurrected as a twin-only item.
            condition=DeviceModel.device_id.exists() & unchanged,
        ))


def _desired(document: dict[str, Any], metadata: dict[str, Any], version: int) -> list[Action]:
    return [DeviceModel.twin_desired.set(document), DeviceModel.desired_metadata.set(metadata),
            DeviceModel.desired_version.set(version)]


def _reported(document: dict[str, Any], metadata: dict[str, Any], version: int, revision: int) -> list[Action]:
    return [DeviceModel.twin_reported.set(document), DeviceModel.reported_metadata.set(metadata),
            DeviceModel.reported_version.set(version), DeviceModel.reported_revision.set(revision)]


def _pending(tenant_id: str, desired_version: int, reported_version: int) -> Action:
    # The twin_pending index entry follows each write's view of both versions. A report racing a
    # PATCH may leave it one write behind; the device's next report (the PATCH is published to
    # it) sets it right. A SET of an unchanged value and a REMOVE of a missing one cost no index write.
    if desired_version > reported_version:
        return DeviceModel.twin_pending.set(tenant_id)
    return DeviceModel.twin_pending.remove()


def _still(counter: Any, seen: int) -> Condition:
    # A counter never written reads as 0.
    if seen == 0:
        return counter.does_not_exist() | (counter == 0)
    return counter == seen
