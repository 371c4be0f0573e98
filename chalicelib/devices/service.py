"""Device registry: create, list, delete, rotate tokens, authenticate, presence."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from chalicelib.core.auth import tokens
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.errors import InvalidInput, Unauthenticated
from chalicelib.core.ids import is_valid_id, new_id
from chalicelib.core.messaging.base import Message, Publisher
from chalicelib.core.observability.log import logger
from chalicelib.core.storage.cursors import Page
from chalicelib.core.topics import device_topic
from chalicelib.devices.presence import Presence, PresenceWindows
from chalicelib.devices.schemas import CreateDevice, Device, DevicePrincipal, DeviceStatus, UpdateDevice
from chalicelib.devices.seen_cache import PresenceCache, Seen, TokenCache
from chalicelib.devices.store import DeviceRepository
from chalicelib.groups.store import GroupRepository
from chalicelib.sites.rules import next_wake

# (tenant_id, site_id) -> the site's (cron, timezone), or None when the site is gone.
WakeLookup = Callable[[str, str], "tuple[str, str] | None"]


@dataclass(frozen=True)
class CreatedDevice:
    """A new device and its provision token, which is shown this once."""

    device: Device
    provision_token: str


class DeviceService:
    """The registry's use cases; every call is scoped by the caller's tenant."""

    def __init__(self, devices: DeviceRepository, groups: GroupRepository,
                 seen_resolution_s: int = 60, clock: Clock = utcnow, publisher: Publisher | None = None,
                 wake_lookup: WakeLookup | None = None,
                 on_deleted: Callable[[str, str], object] | None = None, away_after_s: int = 120,
                 on_created: Callable[[str, str], object] | None = None,
                 stale_after: timedelta = timedelta(hours=1), presence_cache_s: int = 0,
                 token_cache_s: int = 0) -> None:
        self._devices = devices
        self.presence_windows = PresenceWindows(away_after_s, stale_after)
        self._presence = PresenceCache(timedelta(seconds=presence_cache_s))
        self._tokens = TokenCache(timedelta(seconds=token_cache_s))
        self._on_created = on_created
        self._on_deleted = on_deleted
        self._groups = groups
        self._publisher = publisher
        self._resolution = timedelta(seconds=seen_resolution_s)
        self._away_after = timedelta(seconds=away_after_s)
        self._clock = clock
        self._wake_lookup = wake_lookup

    def create(self, tenant_id: str, request: CreateDevice) -> CreatedDevice:
        """Register a device (id given or generated) with its first token."""
        device = Device(
            tenant_id=tenant_id,
            device_id=request.device_id or new_id("dev"),
            name=request.name,
            attributes=request.attributes,
            status=DeviceStatus.PENDING_MAPPING,
            created_at=self._clock(),
        )
        token = tokens.new_token()
        self._devices.create(device, tokens.token_hash(token), tokens.mosquitto_password_hash(token))
        if self._on_created is not None:
            try:
                self._on_created(tenant_id, device.device_id)
            except Exception:  # the device is registered; a listener's failure must not undo the answer
                logger.warning("registration listener failed", tenant=tenant_id, device=device.device_id,
                               outcome="failed", exc_info=True)
        return CreatedDevice(device, token)

    def get(self, tenant_id: str, device_id: str) -> Device:
        """One device of the tenant (404 for a foreign or missing id)."""
        return self._current_wake(tenant_id, [self._devices.get(tenant_id, device_id)])[0]

    def list_page(self, tenant_id: str, limit: int, next_token: str | None, group_id: str | None = None,
                  site_id: str | None = None, status: DeviceStatus | None = None,
                  presence: Presence | None = None, twin_pending: bool = False) -> Page[Device]:
        """A page of devices: all, the members of one group, those of a site and/or status, a presence bucket
        or the twins pending."""
        if group_id is not None and (site_id or status):
            raise InvalidInput("group_id cannot be combined with site_id or status", field="group_id")
        if (presence is not None or twin_pending) and (group_id or site_id or status):
            raise InvalidInput("presence and twin cannot be combined with another filter",
                               field="presence" if presence is not None else "twin")
        if presence is not None and twin_pending:
            raise InvalidInput("presence cannot be combined with twin", field="twin")
        if presence is not None:
            lower, upper = self.presence_windows.bounds(presence, self._clock())
            page = self._devices.list_by_seen(tenant_id, lower, upper, limit, next_token)
        elif twin_pending:
            page = self._devices.list_twin_pending(tenant_id, limit, next_token)
        elif site_id is not None:
            page = self._devices.list_by_site(tenant_id, site_id, status, limit, next_token)
        elif status is not None:
            page = self._devices.list_by_status(tenant_id, status, limit, next_token)
        elif group_id is None:
            page = self._devices.list_page(tenant_id, limit, next_token)
        else:
            self._groups.get(tenant_id, group_id)
            ids = self._groups.members(tenant_id, group_id, limit, next_token)
            page = Page(self._devices.batch_get(tenant_id, ids.items), ids.next_token)
        return Page(self._current_wake(tenant_id, page.items), page.next_token)

    def update(self, tenant_id: str, device_id: str, request: UpdateDevice) -> Device:
        """Rename a device or replace its attributes; the fields not given stay as they are."""
        changes = request.model_dump(include=request.model_fields_set)
        device = self._devices.update_profile(tenant_id, device_id, changes)
        return self._current_wake(tenant_id, [device])[0]

    def delete(self, tenant_id: str, device_id: str) -> None:
        """Remove the device; its token stops working in the same write (other processes: see TokenCache)."""
        self._forget(tenant_id, device_id)
        self._devices.delete(tenant_id, device_id)
        self._forget(tenant_id, device_id)  # again: a request of the device may have read it meanwhile
        self._groups.forget_device(tenant_id, device_id)
        if self._publisher is not None:
            # A device re-created under the same id must not receive the old desired state.
            self._publisher.publish(Message.clear_retained(device_topic(tenant_id, device_id, "shadow/desired")))
        if self._on_deleted is not None:
            # Nor its named shadows.
            self._on_deleted(tenant_id, device_id)

    def rotate_token(self, tenant_id: str, device_id: str) -> str:
        """Issue a new token; the previous one stops working at once here, within the token cache's ttl elsewhere."""
        token = tokens.new_token()
        self._devices.rotate_token(tenant_id, device_id, tokens.token_hash(token),
                                   tokens.mosquitto_password_hash(token), self._clock())
        self._forget(tenant_id, device_id)
        return token

    def set_enabled(self, tenant_id: str, device_id: str, enabled: bool) -> Device:
        """Disable (token refused on HTTP and MQTT) or re-enable a device."""
        self._forget(tenant_id, device_id)
        current = self._devices.get(tenant_id, device_id)
        if enabled:
            status = DeviceStatus.ACTIVE if current.site_id else DeviceStatus.PENDING_MAPPING
        else:
            status = DeviceStatus.DISABLED
        if current.status is status:
            return current
        changed = self._devices.set_enabled(tenant_id, device_id, status)
        self._forget(tenant_id, device_id)  # again: a request of the device may have read it meanwhile
        return changed

    def authenticate(self, token: str | None) -> DevicePrincipal:
        """Resolve an X-Provision-Token to its device, counting the request as presence."""
        if not token:
            raise Unauthenticated("X-Provision-Token header is required", field="X-Provision-Token")
        if len(token) > 200:
            raise Unauthenticated("provision token is not valid", field="X-Provision-Token")
        digest = tokens.token_hash(token)
        now = self._clock()
        principal = self._tokens.get(digest, now)
        if principal is None:
            principal = self._devices.principal_for_token(digest)
            if principal is None:
                raise Unauthenticated("provision token is not valid", field="X-Provision-Token")
            self._tokens.put(digest, principal, now)
        if not principal.enabled:
            raise Unauthenticated("device is disabled", field="X-Provision-Token")
        if principal.seen_at is None or now - principal.seen_at >= self._resolution:
            # Not recorded means another request (HTTP or MQTT) recorded it within the resolution:
            # either way this process need not try again before the next one.
            self._devices.touch(principal.tenant_id, principal.device_id, now, self._resolution, digest)
            self._tokens.seen(digest, principal, now)
        return principal

    def seen(self, tenant_id: str, device_id: str) -> bool:
        """A device-to-cloud MQTT message arrived: check the device may talk, count presence.

        True when this message brings the device back: it had not been heard from for
        `away_after_s`, and of concurrent messages this one recorded the presence (the
        conditional touch has one winner), so a burst on return triggers one redelivery.
        """
        now = self._clock()
        seen = self._presence.get(tenant_id, device_id, now)
        if seen is None:
            device = self._devices.get(tenant_id, device_id)
            seen = self._presence.put(tenant_id, device_id, Seen(device.status, device.last_seen_at, now))
        if seen.status is DeviceStatus.DISABLED:
            raise Unauthenticated("device is disabled", field="device_id")
        if seen.last_seen_at is None or now - seen.last_seen_at >= self._resolution:
            touched = self._devices.touch(tenant_id, device_id, now, self._resolution)
            if touched:
                self._presence.put(tenant_id, device_id, Seen(seen.status, now, seen.read_at))
            else:  # another process recorded it: read afresh next time
                self._presence.forget(tenant_id, device_id)
            return touched and (seen.last_seen_at is None or now - seen.last_seen_at >= self._away_after)
        return False

    def _forget(self, tenant_id: str, device_id: str) -> None:
        """Drop what this process read of the device: the change acts here at once."""
        self._presence.forget(tenant_id, device_id)
        self._tokens.forget_device(tenant_id, device_id)

    def _current_wake(self, tenant_id: str, devices: list[Device]) -> list[Device]:
        """Move a next_wake_at that has passed to the site schedule's next occurrence.

        The stored value is the one computed at the last mapping or schedule change; a
        device that woke since then wakes next at the schedule's next time. Only stale
        values cost a read: one GetItem per distinct site of the page.
        """
        now = self._clock()
        stale = {d.site_id for d in devices if d.site_id and d.next_wake_at is not None and d.next_wake_at <= now}
        if not stale or self._wake_lookup is None:
            return devices
        wakes = {}
        for site_id in stale:
            schedule = self._wake_lookup(tenant_id, site_id)
            if schedule is not None:
                wakes[site_id] = next_wake(schedule[0], schedule[1], now)
        return [d.model_copy(update={"next_wake_at": wakes[d.site_id]})
                if d.site_id in wakes and d.next_wake_at is not None and d.next_wake_at <= now else d
                for d in devices]

    def heartbeat(self, principal: DevicePrincipal) -> dict[str, object]:
        """What the heartbeat route answers; presence was recorded by authenticate()."""
        device = self._devices.get(principal.tenant_id, principal.device_id)
        return {"device_id": device.device_id, "last_seen_at": device.last_seen_at}


def check_id(value: str, field: str) -> str:
    """Reject ids that cannot name a resource before they reach a key."""
    if not is_valid_id(value):
        raise InvalidInput(f"{field} is not a valid id", field=field)
    return value
