"""Device twin reads and writes on the device item (one conditional UpdateItem per write)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.errors import NotFound
from chalicelib.schemas.twin import Twin
from chalicelib.storage.base import is_condition_failure
from chalicelib.storage.device_models import TWIN_ATTRIBUTES, DeviceModel

# The twin plus what the twin view shows about the device (presence).
TWIN_READ = sorted(TWIN_ATTRIBUTES | {"tenant_id", "device_id", "last_seen_at"})


class TwinRepository:
    """Optimistic concurrency on `twin_revision`: a write applies only to the twin it was computed from."""

    def get(self, tenant_id: str, device_id: str) -> Twin:
        """The device's twin (strongly consistent: its revision conditions the next write)."""
        try:
            model = DeviceModel.get(tenant_id, device_id, consistent_read=True, attributes_to_get=TWIN_READ)
        except DoesNotExist as exc:
            raise NotFound(f"device {device_id} not found", field="device_id") from exc
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
            revision=int(model.twin_revision or 0),
        )

    def write_desired(self, read: Twin, desired: dict[str, Any], metadata: dict[str, Any], version: int,
                      now: datetime) -> bool:
        """Store a new desired document; False when the twin changed since `read`."""
        return self._write(read, now, [
            DeviceModel.twin_desired.set(desired),
            DeviceModel.desired_metadata.set(metadata),
            DeviceModel.desired_version.set(version),
        ])

    def write_reported(self, read: Twin, reported: dict[str, Any], metadata: dict[str, Any], version: int,
                       now: datetime) -> bool:
        """Store a new reported document; False when the twin changed since `read`."""
        return self._write(read, now, [
            DeviceModel.twin_reported.set(reported),
            DeviceModel.reported_metadata.set(metadata),
            DeviceModel.reported_version.set(version),
        ])

    @staticmethod
    def _write(read: Twin, now: datetime, actions: list[Action]) -> bool:
        revision: Condition = (
            DeviceModel.twin_revision.does_not_exist() if read.revision == 0
            else DeviceModel.twin_revision == read.revision
        )
        try:
            DeviceModel(read.tenant_id, read.device_id).update(
                actions=[*actions, DeviceModel.shadow_updated_at.set(now),
                         DeviceModel.twin_revision.set(read.revision + 1)],
                # device_id: a device deleted since the read must not be resurrected as a twin-only item.
                condition=DeviceModel.device_id.exists() & revision,
            )
        except UpdateError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True
