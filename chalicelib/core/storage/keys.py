"""The key of an item that belongs to one tenant: "{tenant_id}#{id}", used by every table and index that needs one.

Ids cannot contain '#' (see core/ids.py), so two tenants' keys never collide and a key
splits back into its two parts.
"""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute


def tenant_key(tenant_id: str, local_id: str) -> str:
    """The key of something of one tenant: a device, job, group, site or batch (or a device status)."""
    return f"{tenant_id}#{local_id}"


def split_tenant_key(key: str) -> tuple[str, str]:
    """(tenant_id, id) of a tenant_key."""
    tenant_id, _, local_id = key.partition("#")
    return tenant_id, local_id


class TenantPartitioned:
    """A model whose hash key is its tenant: a Query reads one tenant's items, in range key order."""

    tenant_id = UnicodeAttribute(hash_key=True)
