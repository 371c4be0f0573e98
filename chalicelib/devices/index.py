"""The device table's secondary indexes: devices by site and by status, and their keys."""
from __future__ import annotations

from typing import TYPE_CHECKING

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.core.storage.base import index_meta
from chalicelib.core.storage.keys import tenant_key

if TYPE_CHECKING:
    from chalicelib.devices.models import DeviceModel  # noqa: F401


# Partition of the by-site index: the devices mapped to one site.
site_index_key = tenant_key


def site_index_sort(status: str, device_id: str) -> str:
    """Sort key in the by-site index; the status prefix lets `?site_id&status` be one Query."""
    return f"{status}#{device_id}"


# Partition of the by-status index: a tenant's devices in one status.
status_index_key = tenant_key


class DevicesBySite(GlobalSecondaryIndex["DeviceModel"]):
    """Sparse: only mapped devices carry `site_key`. Keys only, so presence writes skip it."""

    Meta = index_meta("by_site", KeysOnlyProjection())

    site_key = UnicodeAttribute(hash_key=True)
    site_sort = UnicodeAttribute(range_key=True)


class DevicesByStatus(GlobalSecondaryIndex["DeviceModel"]):
    """A tenant's devices per lifecycle status, in id order. Keys only, like by_site."""

    Meta = index_meta("by_status", KeysOnlyProjection())

    status_key = UnicodeAttribute(hash_key=True)
    device_id = UnicodeAttribute(range_key=True)


class DevicesBySeen(GlobalSecondaryIndex["DeviceModel"]):
    """A tenant's devices by last presence (`seen_sort`: the last_seen_at text, NEVER_SEEN before any).

    Keys only: the overview buckets presence and the devices list filters on it with one
    paged Query; presence writes (at most one a minute per device) move one small entry.
    """

    Meta = index_meta("by_seen", KeysOnlyProjection())

    tenant_id = UnicodeAttribute(hash_key=True)
    seen_sort = UnicodeAttribute(range_key=True)


class TwinsPending(GlobalSecondaryIndex["DeviceModel"]):
    """Sparse: the devices whose reported version is behind desired carry `twin_pending` (their tenant)."""

    Meta = index_meta("twin_pending", KeysOnlyProjection())

    twin_pending = UnicodeAttribute(hash_key=True)
    device_id = UnicodeAttribute(range_key=True)
