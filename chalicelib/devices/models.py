"""PynamoDB models of the device registry: devices, provision tokens, the credential epoch."""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.core.storage.base import index_meta, table_meta
from chalicelib.core.storage.keys import TenantPartitioned
from chalicelib.devices.index import DevicesBySeen, DevicesBySite, DevicesByStatus, TwinsPending
from chalicelib.devices.presence import NEVER_SEEN
from chalicelib.devices.schemas import Device, DeviceStatus

BROKER_PARTITION = "broker"


class DeviceModel(TenantPartitioned, Model):
    """One device of one tenant."""

    Meta = table_meta("devices")

    device_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute(null=True)
    attributes = JSONAttribute(default=dict)
    status = UnicodeAttribute(default=DeviceStatus.PENDING_MAPPING.value)
    created_at = UTCDateTimeAttribute()
    last_seen_at = UTCDateTimeAttribute(null=True)
    token_hash = UnicodeAttribute()
    site_id = UnicodeAttribute(null=True)
    next_wake_at = UTCDateTimeAttribute(null=True)
    # The site schedule_version next_wake_at was computed from: fan-outs never write an older one.
    wake_version = NumberAttribute(null=True)
    # Index keys derived from (tenant, site, status); every write of site or status sets them.
    site_key = UnicodeAttribute(null=True)
    site_sort = UnicodeAttribute(null=True)
    status_key = UnicodeAttribute(null=True)
    # Changes on every mapping: the version a mapping's follow-up writes are conditioned on.
    mapping_id = UnicodeAttribute(null=True)
    # last_seen_at as index text (NEVER_SEEN until the first message): presence buckets and filters.
    seen_sort = UnicodeAttribute(default=NEVER_SEEN)
    by_site = DevicesBySite()
    by_status = DevicesByStatus()
    by_seen = DevicesBySeen()

    # Twin (seed 003), kept on the device item so a twin write is one conditional UpdateItem.
    # Registry reads project these away (REGISTRY_ATTRIBUTES); storage/twin.py owns them.
    twin_desired = JSONAttribute(null=True)
    twin_reported = JSONAttribute(null=True)
    desired_version = NumberAttribute(null=True)
    reported_version = NumberAttribute(null=True)
    desired_metadata = JSONAttribute(null=True)
    reported_metadata = JSONAttribute(null=True)
    shadow_updated_at = UTCDateTimeAttribute(null=True)
    reported_revision = NumberAttribute(null=True)
    # AWS IoT's shadow version: one counter bumped by every write of either document.
    shadow_version = NumberAttribute(null=True)
    # The tenant id while reported_version is behind desired_version (sparse index key).
    twin_pending = UnicodeAttribute(null=True)
    twins_pending = TwinsPending()

    def to_record(self) -> Device:
        return Device(
            tenant_id=self.tenant_id,
            device_id=self.device_id,
            name=self.name,
            attributes=self.attributes or {},
            status=DeviceStatus(self.status),
            created_at=self.created_at,
            last_seen_at=self.last_seen_at,
            site_id=self.site_id,
            next_wake_at=self.next_wake_at,
        )


TWIN_ATTRIBUTES = frozenset({
    "twin_desired", "twin_reported", "desired_version", "reported_version",
    "desired_metadata", "reported_metadata", "shadow_updated_at", "reported_revision",
    "shadow_version", "twin_pending",
})
# Everything but the twin: listings and lookups need not drag up to 2 x 8 KB documents along.
REGISTRY_ATTRIBUTES = sorted(
    a.attr_name for a in DeviceModel.get_attributes().values() if a.attr_name not in TWIN_ATTRIBUTES
)


class BrokerCredentialIndex(GlobalSecondaryIndex["TokenModel"]):
    """Every credential, for the local broker's password file (never a request path)."""

    Meta = index_meta("broker_credentials", AllProjection())

    broker_partition = UnicodeAttribute(hash_key=True)
    token_hash = UnicodeAttribute(range_key=True)


class TokenModel(Model):
    """Provision token, keyed by its SHA-256: the clear token is never stored."""

    Meta = table_meta("device-tokens")

    token_hash = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    device_id = UnicodeAttribute()
    enabled = NumberAttribute(default=1)
    # Mosquitto's PBKDF2 form of the same token, so the broker can check it too.
    mqtt_password_hash = UnicodeAttribute()
    seen_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    broker_partition = UnicodeAttribute(default=BROKER_PARTITION)
    broker_credentials = BrokerCredentialIndex()


class RegistryEpochModel(Model):
    """A counter bumped on every credential change; the broker sync polls one item."""

    Meta = table_meta("registry-epoch")

    name = UnicodeAttribute(hash_key=True)
    epoch = NumberAttribute(default=0)


EPOCH_KEY = "credentials"
