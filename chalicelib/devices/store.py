"""The device registry repository: devices, provision tokens, presence, credentials."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.storage.base import connection
from chalicelib.core.storage.cursors import Page, query_page
from chalicelib.core.storage.errors import read_or_raise, written_or_raise
from chalicelib.devices.index import (
    site_index_key,
    site_index_sort,
    status_index_key,
)
from chalicelib.devices.models import (
    BROKER_PARTITION,
    EPOCH_KEY,
    REGISTRY_ATTRIBUTES,
    DeviceModel,
    RegistryEpochModel,
    TokenModel,
)
from chalicelib.devices.presence import seen_sort
from chalicelib.devices.schemas import Device, DevicePrincipal, DeviceStatus
from chalicelib.sites.store import SiteModel


class DeviceRepository:
    """All reads and writes of devices and their tokens."""

    def create(self, device: Device, token_hash: str, mqtt_password_hash: str) -> None:
        """Store a device and its first token atomically; 409 when the id is taken."""
        item, token = new_device_items(device, token_hash, mqtt_password_hash)
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(item, condition=DeviceModel.device_id.does_not_exist())
                tx.save(token, condition=TokenModel.token_hash.does_not_exist())
        except TransactWriteError as exc:
            raise Conflict(f"device {device.device_id} already exists", field="device_id") from exc
        self._bump_epoch()

    def get(self, tenant_id: str, device_id: str) -> Device:
        """One device of the tenant, or NotFound."""
        model = read_or_raise(
            lambda: DeviceModel.get(tenant_id, device_id, consistent_read=True, attributes_to_get=REGISTRY_ATTRIBUTES),
            NotFound(f"device {device_id} not found", field="device_id"))
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
        page = query_page(DeviceModel, tenant_id, limit, next_token, attributes_to_get=REGISTRY_ATTRIBUTES)
        return page.map(DeviceModel.to_record)

    def list_by_status(self, tenant_id: str, status: DeviceStatus, limit: int,
                       next_token: str | None) -> Page[Device]:
        """A page of the tenant's devices in one status, in id order."""
        page = query_page(DeviceModel, status_index_key(tenant_id, status.value), limit, next_token,
                          index=DeviceModel.by_status)
        return self._page_of(tenant_id, page, status)

    def list_by_seen(self, tenant_id: str, lower: str, upper: str, limit: int,
                     next_token: str | None) -> Page[Device]:
        """A page of the tenant's devices last seen in [lower, upper) (seen_sort text), most recent first."""
        # The lower edge is not in the Query: it moves up with the clock between two pages, and a
        # cursor below it would be refused by DynamoDB (a 400 blaming the cursor this listing gave).
        page = query_page(DeviceModel, tenant_id, limit, next_token, index=DeviceModel.by_seen,
                          range_key_condition=DeviceModel.seen_sort < upper, scan_index_forward=False)
        inside = [m for m in page.items if m.seen_sort >= lower]
        # Newest first: past the lower edge every later device is older still, so the bucket ends here.
        return self._page_of(tenant_id, Page(inside, page.next_token if len(inside) == len(page.items) else None),
                             None)

    def list_twin_pending(self, tenant_id: str, limit: int, next_token: str | None) -> Page[Device]:
        """A page of the tenant's devices whose twin has a desired version not yet reported, in id order."""
        page = query_page(DeviceModel, tenant_id, limit, next_token, index=DeviceModel.twins_pending)
        return self._page_of(tenant_id, page, None)

    def list_by_site(self, tenant_id: str, site_id: str, status: DeviceStatus | None, limit: int,
                     next_token: str | None) -> Page[Device]:
        """A page of the devices mapped to a site, optionally in one status."""
        prefix = DeviceModel.site_sort.startswith(f"{status.value}#") if status else None
        page = query_page(DeviceModel, site_index_key(tenant_id, site_id), limit, next_token,
                          index=DeviceModel.by_site, range_key_condition=prefix)
        return self._page_of(tenant_id, page, status)

    def _page_of(self, tenant_id: str, page: Page[DeviceModel], status: DeviceStatus | None) -> Page[Device]:
        # The indexes are eventually consistent: drop devices whose status moved since.
        found = self.batch_get(tenant_id, [m.device_id for m in page.items])
        return Page([d for d in found if status is None or d.status is status], page.next_token)

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
                if model.site_id:
                    # The site's count moves with the device, or the site could never be deleted.
                    tx.update(SiteModel(tenant_id, model.site_id), actions=[SiteModel.device_count.add(-1)],
                              condition=SiteModel.site_id.exists())
        except TransactWriteError as exc:
            raise Conflict("device changed while deleting; retry", field="device_id") from exc
        self._bump_epoch()

    def update_profile(self, tenant_id: str, device_id: str, changes: dict[str, Any]) -> Device:
        """Set or clear the operator-owned fields (name, attributes) of an existing device."""
        actions: list[Action] = []
        if "name" in changes:
            name = changes["name"]
            actions.append(DeviceModel.name.set(name) if name is not None else DeviceModel.name.remove())
        if "attributes" in changes:
            actions.append(DeviceModel.attributes.set(changes["attributes"]))
        model = DeviceModel(tenant_id, device_id)
        written_or_raise(lambda: model.update(actions=actions, condition=DeviceModel.device_id.exists()),
                         NotFound(f"device {device_id} not found", field="device_id"))
        return model.to_record()

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
        actions: list[Action] = [DeviceModel.status.set(status.value),
                   DeviceModel.status_key.set(status_index_key(tenant_id, status.value))]
        if model.site_id:
            actions.append(DeviceModel.site_sort.set(site_index_sort(status.value, device_id)))
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.update(
                    model,
                    actions=actions,
                    # The site too: a concurrent (un)mapping decides the status and the index keys.
                    condition=(DeviceModel.token_hash == model.token_hash)
                    & (DeviceModel.site_id == model.site_id if model.site_id else DeviceModel.site_id.does_not_exist()),
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
                actions=[DeviceModel.last_seen_at.set(now), DeviceModel.seen_sort.set(seen_sort(now))],
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
        # Full item on purpose: callers write this model back, and a projected save would drop the twin.
        return read_or_raise(lambda: DeviceModel.get(tenant_id, device_id, consistent_read=True),
                             NotFound(f"device {device_id} not found", field="device_id"))

    def credentials_changed(self) -> None:
        """Bump the credential epoch: another feature changed what the broker must accept (certificates)."""
        self._bump_epoch()

    @staticmethod
    def _bump_epoch() -> None:
        RegistryEpochModel(EPOCH_KEY).update(actions=[RegistryEpochModel.epoch.add(1)])


def new_device_items(device: Device, token_hash: str, mqtt_password_hash: str) -> tuple[DeviceModel, TokenModel]:
    """The device item and its token item of a new device, as every way of creating one writes them."""
    item = DeviceModel(
        device.tenant_id,
        device.device_id,
        name=device.name,
        attributes=device.attributes,
        status=device.status.value,
        created_at=device.created_at,
        token_hash=token_hash,
        status_key=status_index_key(device.tenant_id, device.status.value),
    )
    if device.site_id is not None:
        item.site_id = device.site_id
        item.next_wake_at = device.next_wake_at
        item.site_key = site_index_key(device.tenant_id, device.site_id)
        item.site_sort = site_index_sort(device.status.value, device.device_id)
    token = _token_item(device.tenant_id, device.device_id, token_hash, mqtt_password_hash, device.created_at)
    return item, token


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

