"""Named shadows: one item per (device, shadow name), written with a condition on its version."""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from chalicelib.aws_iot.shadow_schemas import ShadowDoc
from chalicelib.core.storage.base import table_meta
from chalicelib.core.storage.errors import written
from chalicelib.core.storage.keys import tenant_key

# Partition key of a device's named shadows.
device_key = tenant_key


class NamedShadowModel(Model):
    """A named shadow of a device (the classic shadow is the twin on the device item)."""

    Meta = table_meta("shadows")

    device_key = UnicodeAttribute(hash_key=True)
    shadow_name = UnicodeAttribute(range_key=True)
    desired = JSONAttribute(null=True)
    reported = JSONAttribute(null=True)
    desired_metadata = JSONAttribute(null=True)
    reported_metadata = JSONAttribute(null=True)
    version = NumberAttribute()
    updated_at = UTCDateTimeAttribute()


class NamedShadowRepository:
    """Get, conditional put and conditional delete of named shadows."""

    def get(self, tenant_id: str, device_id: str, name: str) -> ShadowDoc | None:
        """The shadow, strongly consistent (its version conditions the next write); None if absent."""
        try:
            m = NamedShadowModel.get(device_key(tenant_id, device_id), name, consistent_read=True)
        except DoesNotExist:
            return None
        return ShadowDoc(desired=m.desired or {}, reported=m.reported or {},
                         desired_metadata=m.desired_metadata or {}, reported_metadata=m.reported_metadata or {},
                         version=int(m.version), updated_at=m.updated_at)

    def names(self, tenant_id: str, device_id: str, limit: int = 100) -> list[str]:
        """Names of the device's named shadows, in name order (one Query)."""
        result = NamedShadowModel.query(device_key(tenant_id, device_id), limit=limit,
                                        attributes_to_get=["shadow_name"])
        return [m.shadow_name for m in result]

    def put(self, tenant_id: str, device_id: str, name: str, read: ShadowDoc | None, doc: ShadowDoc) -> bool:
        """Store `doc`; False when the shadow changed (or appeared) since `read`."""
        item = NamedShadowModel(device_key(tenant_id, device_id), name, desired=doc.desired, reported=doc.reported,
                                desired_metadata=doc.desired_metadata, reported_metadata=doc.reported_metadata,
                                version=doc.version, updated_at=doc.updated_at)
        condition = (NamedShadowModel.device_key.does_not_exist() if read is None
                     else NamedShadowModel.version == read.version)
        return written(lambda: item.save(condition=condition))

    def delete(self, tenant_id: str, device_id: str, name: str, read: ShadowDoc) -> bool:
        """Delete the shadow; False when it changed since `read`."""
        return written(lambda: NamedShadowModel(device_key(tenant_id, device_id), name).delete(
            condition=NamedShadowModel.version == read.version))

    def delete_all(self, tenant_id: str, device_id: str) -> int:
        """Remove every named shadow of a device (when the device is deleted)."""
        removed = 0
        for m in NamedShadowModel.query(device_key(tenant_id, device_id), attributes_to_get=["shadow_name"]):
            NamedShadowModel(device_key(tenant_id, device_id), m.shadow_name).delete()
            removed += 1
        return removed
