"""Device registry and provision-token tables."""
from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.errors import Conflict, NotFound
from chalicelib.schemas.devices import Device, DevicePrincipal, DeviceStatus
from chalicelib.storage.base import Page, connection, decode_cursor, encode_cursor

BROKER_PARTITION = "broker"


class DeviceModel(Model):
    """One device of one tenant."""

    class Meta:
        table_suffix = "devices"
        table_name = "devices"
        billing_mode = "PAY_PER_REQUEST"

    tenant_id = UnicodeAttribute(hash_key=True)
    device_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute(null=True)
    attributes = JSONAttribute(default=dict)
    status = UnicodeAttribute(default=DeviceStatus.PENDING_MAPPING.value)
    created_at = UTCDateTimeAttribute()
    last_seen_at = UTCDateTimeAttribute(null=True)
    token_hash = UnicodeAttribute()
    site_id = UnicodeAttribute(null=True)
    next_wake_at = UTCDateTimeAttribute(null=True)

    # Twin (seed 003), kept on the device item so a twin write is one conditional UpdateItem.
    # Registry reads project these away (REGISTRY_ATTRIBUTES); storage/twin.py owns them.
    twin_desired = JSONAttribute(null=True)
    twin_reported = JSONAttribute(null=True)
    desired_version = NumberAttribute(null=True)
    reported_version = NumberAttribute(null=True)
    desired_metadata = JSONAttribute(null=True)
    reported_metadata = JSONAttribute(null=True)
    shadow_updated_at = UTCDateTimeAttribute(null=True)
    twin_revision = NumberAttribute(null=True)

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
    "desired_metadata", "reported_metadata", "shadow_updated_at", "twin_revision",
})
# Everything but the twin: listings and lookups need not drag up to 2 x 8 KB documents along.
REGISTRY_ATTRIBUTES = sorted(
    a.attr_name for a in DeviceModel.get_attributes().values() if a.attr_name not in TWIN_ATTRIBUTES
)


class BrokerCredentialIndex(GlobalSecondaryIndex["TokenModel"]):
    """Every credential, for the local broker's password file (never a request path)."""

    class Meta:
        index_name = "broker_credentials"
        projection = AllProjection()

    broker_partition = UnicodeAttribute(hash_key=True)
    token_hash = UnicodeAttribute(range_key=True)


class TokenModel(Model):
    """Provision token, keyed by its SHA-256: the clear token is never stored."""

    class Meta:
        table_suffix = "device-tokens"
        table_name = "device-tokens"
        billing_mode = "PAY_PER_REQUEST"

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

    class Meta:
        table_suffix = "registry-epoch"
        table_name = "registry-epoch"
        billing_mode = "PAY_PER_REQUEST"

    name = UnicodeAttribute(hash_key=True)
    epoch = NumberAttribute(default=0)


EPOCH_KEY = "credentials"


class DeviceRepository:
    """All reads and writes of devices and their tokens."""

    def create(self, device: Device, token_hash: str, mqtt_password_hash: str) -> None:
        """Store a device and its first token atomically; 409 when the id is taken."""
        item = DeviceModel(
            device.tenant_id,
            device.device_id,
            name=device.name,
            attributes=device.attributes,
            status=device.status.value,
            created_at=device.created_at,
            token_hash=token_hash,
        )
        token = _token_item(device.tenant_id, device.device_id, token_hash, mqtt_password_hash, device.created_at)
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(item, condition=DeviceModel.device_id.does_not_exist())
                tx.save(token, condition=TokenModel.token_hash.does_not_exist())
        except TransactWriteError as exc:
            raise Conflict(f"device {device.device_id} already exists", field="device_id") from exc
        self._bump_epoch()

    def get(self, tenant_id: str, device_id: str) -> Device:
        """One device of the tenant, or NotFound."""
        try:
            model = DeviceModel.get(tenant_id, device_id, consistent_read=True, attributes_to_get=REGISTRY_ATTRIBUTES)
        except DoesNotExist as exc:
            raise NotFound(f"device {device_id} not found", field="device_id") from exc
        return model.to_record()

    def exists(self, tenant_id: str, device_id: str) -> bool:
        """Whether the tenant has this device (a projection read of the key only)."""
        try:
            DeviceModel.get(tenant_id, device_id, attributes_to_get=["device_id"])
        except DoesNotExist:
            return False
        return True

    def list_page(self, tenant_id: str, limit: int, next_token: str | None) -> Page[Device]:
        """A page of the tenant's devices in id order."""
        start = decode_cursor(next_token, partition=("tenant_id", tenant_id))
        result = DeviceModel.query(tenant_id, limit=limit, page_size=limit, last_evaluated_key=start,
                                   attributes_to_get=REGISTRY_ATTRIBUTES)
        items = [m.to_record() for m in result]
        return Page(items, encode_cursor(result.last_evaluated_key))

    def batch_get(self, tenant_id: str, device_ids: list[str]) -> list[Device]:
        """Devices of the tenant among these ids, in the order given; missing ones skipped."""
        if not device_ids:
            return []
        keys = [(tenant_id, d) for d in device_ids]
        found = {m.device_id: m.to_record() for m in DeviceModel.batch_get(keys, attributes_to_get=REGISTRY_ATTRIBUTES)}
        return [found[d] for d in device_ids if d in found]

    def delete(self, tenant_id: str, device_id: str) -> None:
        """Delete the device and its token in one transaction: the token dies at once."""
        model = self._get_model(tenant_id, device_id)
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.delete(model, condition=DeviceModel.token_hash == model.token_hash)
                tx.delete(TokenModel(model.token_hash))
        except TransactWriteError as exc:
            raise Conflict("device changed while deleting; retry", field="device_id") from exc
        self._bump_epoch()

    def rotate_token(self, tenant_id: str, device_id: str, token_hash: str, mqtt_password_hash: str,
                     now: datetime) -> None:
        """Swap the device's token: the old one stops working in the same transaction."""
        model = self._get_model(tenant_id, device_id)
        old_hash = model.token_hash
        old_token = TokenModel.get(old_hash, consistent_read=True) if old_hash else None
        enabled = int(old_token.enabled) if old_token else 1
        new_token = _token_item(tenant_id, device_id, token_hash, mqtt_password_hash, now, enabled=enabled)
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.update(
                    model,
                    actions=[DeviceModel.token_hash.set(token_hash)],
                    condition=DeviceModel.token_hash == old_hash,
                )
                tx.delete(TokenModel(old_hash))
                tx.save(new_token, condition=TokenModel.token_hash.does_not_exist())
        except TransactWriteError as exc:
            raise Conflict("token changed concurrently; retry", field="device_id") from exc
        self._bump_epoch()

    def set_enabled(self, tenant_id: str, device_id: str, status: DeviceStatus) -> Device:
        """Enable or disable a device and its token together."""
        model = self._get_model(tenant_id, device_id)
        enabled = 0 if status is DeviceStatus.DISABLED else 1
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.update(
                    model,
                    actions=[DeviceModel.status.set(status.value)],
                    condition=DeviceModel.token_hash == model.token_hash,
                )
                tx.update(
                    TokenModel(model.token_hash),
                    actions=[TokenModel.enabled.set(enabled)],
                    condition=TokenModel.token_hash.exists(),
                )
        except TransactWriteError as exc:
            raise Conflict("device changed concurrently; retry", field="device_id") from exc
        self._bump_epoch()
        model.status = status.value
        return model.to_record()

    def principal_for_token(self, token_hash: str) -> DevicePrincipal | None:
        """Resolve a token hash (strongly consistent, so a rotation is seen at once)."""
        try:
            token = TokenModel.get(token_hash, consistent_read=True)
        except DoesNotExist:
            return None
        return DevicePrincipal(
            tenant_id=token.tenant_id,
            device_id=token.device_id,
            enabled=bool(token.enabled),
            seen_at=token.seen_at,
        )

    def touch(self, tenant_id: str, device_id: str, now: datetime, resolution: timedelta,
              token_hash: str | None = None) -> bool:
        """Record that the device was seen, at most once per `resolution`.

        The condition makes the write a no-op when a fresher timestamp is already
        stored, so concurrent requests of a chatty device cost one write a minute.
        """
        threshold = now - resolution
        try:
            DeviceModel(tenant_id, device_id).update(
                actions=[DeviceModel.last_seen_at.set(now)],
                condition=DeviceModel.device_id.exists()
                & (DeviceModel.last_seen_at.does_not_exist() | (DeviceModel.last_seen_at < threshold)),
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        if token_hash:
            try:
                TokenModel(token_hash).update(
                    actions=[TokenModel.seen_at.set(now)], condition=TokenModel.token_hash.exists()
                )
            except UpdateError as exc:
                if exc.cause_response_code != "ConditionalCheckFailedException":
                    raise
        return True

    def credentials_epoch(self) -> int:
        """The current credential-change counter (0 before any change)."""
        try:
            return int(RegistryEpochModel.get(EPOCH_KEY, consistent_read=True).epoch)
        except DoesNotExist:
            return 0

    def broker_credentials(self) -> list[TokenModel]:
        """Every token with its broker hash, for the local broker's password file."""
        return list(TokenModel.broker_credentials.query(BROKER_PARTITION))

    def _get_model(self, tenant_id: str, device_id: str) -> DeviceModel:
        try:
            # Full item on purpose: callers write this model back, and a projected save would drop the twin.
            return DeviceModel.get(tenant_id, device_id, consistent_read=True)
        except DoesNotExist as exc:
            raise NotFound(f"device {device_id} not found", field="device_id") from exc

    @staticmethod
    def _bump_epoch() -> None:
        RegistryEpochModel(EPOCH_KEY).update(actions=[RegistryEpochModel.epoch.add(1)])


def _token_item(tenant_id: str, device_id: str, token_hash: str, mqtt_hash: str, now: datetime,
                enabled: int = 1) -> TokenModel:
    return TokenModel(
        token_hash,
        tenant_id=tenant_id,
        device_id=device_id,
        enabled=enabled,
        mqtt_password_hash=mqtt_hash,
        created_at=now,
    )

