"""A process's recent reads of devices, briefly trusted: status and last seen for the MQTT message path,
the provision token's owner for the HTTPS device routes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.core.read_cache import MAX_ENTRIES, ReadCache
from chalicelib.devices.schemas import DevicePrincipal, DeviceStatus

__all__ = ["MAX_ENTRIES", "PresenceCache", "ReadCache", "Seen", "TokenCache"]


@dataclass(frozen=True)
class Seen:
    """What the message path needs of a device, and when it was read."""

    status: DeviceStatus
    last_seen_at: datetime | None
    read_at: datetime


class PresenceCache:
    """Reads of devices by (tenant, device) for the MQTT message path."""

    def __init__(self, ttl: timedelta, max_entries: int = MAX_ENTRIES) -> None:
        self._reads: ReadCache[tuple[str, str], Seen] = ReadCache(ttl, max_entries)

    def get(self, tenant_id: str, device_id: str, now: datetime) -> Seen | None:
        """The read of this device if it is younger than the ttl."""
        return self._reads.get((tenant_id, device_id), now)

    def put(self, tenant_id: str, device_id: str, seen: Seen) -> Seen:
        """Keep a read (or its update after a presence write); returns it."""
        return self._reads.put((tenant_id, device_id), seen)

    def forget(self, tenant_id: str, device_id: str) -> None:
        """Drop the read (the device changed here, or another process wrote its presence)."""
        self._reads.forget((tenant_id, device_id))


@dataclass(frozen=True)
class TokenRead:
    """Who a provision token belonged to when it was read."""

    principal: DevicePrincipal
    read_at: datetime


class TokenCache:
    """Reads of provision tokens by their hash (never the token itself), for the HTTPS device routes.

    Only tokens found are kept: an unknown token is read every time, so a device created a
    moment ago in another process is accepted at once. A device disabled, deleted or given a
    new token through this process is forgotten at once; through another process it may be
    accepted for at most the ttl after this process last read its token.
    """

    def __init__(self, ttl: timedelta, max_entries: int = MAX_ENTRIES) -> None:
        self._reads: ReadCache[str, TokenRead] = ReadCache(ttl, max_entries)

    def get(self, token_hash: str, now: datetime) -> DevicePrincipal | None:
        """The token's owner as read within the ttl, or None (read it)."""
        read = self._reads.get(token_hash, now)
        return read.principal if read is not None else None

    def put(self, token_hash: str, principal: DevicePrincipal, now: datetime) -> None:
        """Keep a read made at `now`."""
        self._reads.put(token_hash, TokenRead(principal, now))

    def seen(self, token_hash: str, principal: DevicePrincipal, at: datetime) -> None:
        """The device's presence is recorded as of `at`: keep the read's age, move its last seen."""
        with_seen = principal.model_copy(update={"seen_at": at})
        read = self._reads.get(token_hash, at)
        if read is not None:
            self._reads.put(token_hash, TokenRead(with_seen, read.read_at))

    def forget_device(self, tenant_id: str, device_id: str) -> None:
        """Drop every token read of this device (disabled, deleted or its token rotated here)."""
        self._reads.forget_where(lambda r: r.principal.tenant_id == tenant_id and r.principal.device_id == device_id)
