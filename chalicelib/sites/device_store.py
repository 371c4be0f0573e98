"""Devices on sites: the mapping transaction, the by-site index walk, bulk wake-time writes."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.core.errors import NotFound
from chalicelib.core.storage.base import connection
from chalicelib.core.storage.cursors import query_page
from chalicelib.core.storage.errors import failed_conditions, read_or_raise, written
from chalicelib.devices.index import site_index_key, site_index_sort, status_index_key
from chalicelib.devices.models import DeviceModel
from chalicelib.devices.schemas import Device, DeviceStatus
from chalicelib.sites.store import SiteModel


@dataclass(frozen=True)
class Placement:
    """Where a device stands: its site (None when unmapped), status, next wake, mapping version."""

    site_id: str | None
    status: DeviceStatus
    next_wake_at: datetime | None = None
    mapping_id: str | None = None
    wake_version: int | None = None


@dataclass(frozen=True)
class Placed:
    """A device record and its placement, read together."""

    device: Device
    placement: Placement


@dataclass(frozen=True)
class SiteMember:
    """A device mapped to a site, as the by-site index knows it."""

    device_id: str
    status: DeviceStatus


class MoveResult(Enum):
    """How a mapping transaction ended."""

    MOVED = "moved"
    DEVICE_CHANGED = "device_changed"  # the device is no longer at `current`: re-read
    SITE_CHANGED = "site_changed"  # the target site vanished or its schedule moved: re-read


class SiteDeviceRepository:
    """Writes that keep a device, its index keys and its sites' counts in step."""

    def __init__(self, workers: int = 8) -> None:
        self._workers = workers

    def placed(self, tenant_id: str, device_id: str) -> Placed:
        """The device and its current placement (strongly consistent), or NotFound."""
        m = read_or_raise(lambda: DeviceModel.get(tenant_id, device_id, consistent_read=True),
                          NotFound(f"device {device_id} not found", field="device_id"))
        wake_version = int(m.wake_version) if m.wake_version is not None else None
        return Placed(m.to_record(),
                      Placement(m.site_id, DeviceStatus(m.status), m.next_wake_at, m.mapping_id, wake_version))

    def move(self, tenant_id: str, device_id: str, current: Placement, new: Placement,
             schedule_version: int | None = None) -> MoveResult:
        """Move the device from `current` to `new` in one transaction.

        The device's write is conditioned on `current` (so of two concurrent identical
        mappings one wins and the other sees the site already set); the target site must
        exist and, when `schedule_version` is given, still have that schedule; both sites'
        counts move with the device.
        """
        device = DeviceModel(tenant_id, device_id)
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.update(device, actions=_placement_actions(tenant_id, device_id, new),
                          condition=_is_at(current))
                if new.site_id and new.site_id != current.site_id:
                    site_condition = SiteModel.site_id.exists()
                    if schedule_version is not None:
                        site_condition &= SiteModel.schedule_version == schedule_version
                    tx.update(SiteModel(tenant_id, new.site_id), actions=[SiteModel.device_count.add(1)],
                              condition=site_condition)
                if current.site_id and current.site_id != new.site_id:
                    tx.update(SiteModel(tenant_id, current.site_id), actions=[SiteModel.device_count.add(-1)],
                              condition=SiteModel.site_id.exists())
        except TransactWriteError as exc:
            failed = failed_conditions(exc)
            if 0 in failed:
                return MoveResult.DEVICE_CHANGED
            if 1 in failed and new.site_id and new.site_id != current.site_id:
                return MoveResult.SITE_CHANGED
            raise
        return MoveResult.MOVED

    def set_wake(self, tenant_id: str, device_id: str, mapping_id: str | None, next_wake_at: datetime,
                 version: int) -> bool:
        """Store a new next wake time if the device is still in the same mapping and no newer schedule is stored."""
        condition = (DeviceModel.mapping_id == mapping_id) if mapping_id else DeviceModel.mapping_id.does_not_exist()
        condition &= _not_newer(version)
        return written(lambda: DeviceModel(tenant_id, device_id).update(
            actions=[DeviceModel.next_wake_at.set(next_wake_at), DeviceModel.wake_version.set(version)],
            condition=condition))

    def members_page(self, tenant_id: str, site_id: str, cursor: str,
                     limit: int) -> tuple[list[SiteMember], str | None]:
        """Up to `limit` devices of the site after `cursor` ("" = from the first), and the cursor after them.

        The cursor is None when the site has no more devices: that is how a resumable
        fan-out knows it is done.
        """
        page = query_page(DeviceModel, site_index_key(tenant_id, site_id), limit, cursor or None,
                          index=DeviceModel.by_site)
        return [_member(m) for m in page.items], page.next_token

    def set_site_wake(self, tenant_id: str, site_id: str, device_ids: list[str], next_wake_at: datetime,
                      version: int) -> dict[str, str | None]:
        """Store schedule `version`'s next wake on many devices of a site; device_id -> mapping_id of those written.

        DynamoDB has no batch update, so the UpdateItems run in parallel. Each is
        conditioned on the device still being on the site (a device moved meanwhile keeps
        its new site's time) and on no newer schedule being stored (a replaced fan-out
        still running cannot undo its successor). Redoing the same version is allowed:
        that is how an interrupted chunk is resumed.
        """
        def one(device_id: str) -> tuple[str, str | None] | None:
            model = DeviceModel(tenant_id, device_id)
            actions: list[Action] = [DeviceModel.next_wake_at.set(next_wake_at), DeviceModel.wake_version.set(version)]
            if not written(lambda: model.update(actions=actions,
                                                condition=(DeviceModel.site_id == site_id) & _not_newer(version))):
                return None
            return device_id, model.mapping_id

        # PartiQL's BatchExecuteStatement could send 25 UPDATEs a request on AWS, but the
        # local emulator (moto) evaluates each statement against the whole table.
        if not device_ids:
            return {}
        with ThreadPoolExecutor(max_workers=min(self._workers, len(device_ids))) as pool:
            return dict(r for r in pool.map(one, device_ids) if r is not None)


def _not_newer(version: int) -> Any:
    return DeviceModel.wake_version.does_not_exist() | (DeviceModel.wake_version <= version)


def _member(m: DeviceModel) -> SiteMember:
    status, _, _ = (m.site_sort or "").partition("#")
    return SiteMember(m.device_id, DeviceStatus(status))


def _is_at(p: Placement) -> Any:
    site = DeviceModel.site_id == p.site_id if p.site_id else DeviceModel.site_id.does_not_exist()
    version = DeviceModel.mapping_id == p.mapping_id if p.mapping_id else DeviceModel.mapping_id.does_not_exist()
    return DeviceModel.device_id.exists() & (DeviceModel.status == p.status.value) & site & version


def _placement_actions(tenant_id: str, device_id: str, p: Placement) -> list[Any]:
    actions: list[Any] = [
        DeviceModel.status.set(p.status.value),
        DeviceModel.status_key.set(status_index_key(tenant_id, p.status.value)),
    ]
    if p.site_id:
        actions += [
            DeviceModel.site_id.set(p.site_id),
            DeviceModel.site_key.set(site_index_key(tenant_id, p.site_id)),
            DeviceModel.site_sort.set(site_index_sort(p.status.value, device_id)),
        ]
    else:
        actions += [DeviceModel.site_id.remove(), DeviceModel.site_key.remove(), DeviceModel.site_sort.remove()]
    wake, mapping, version = DeviceModel.next_wake_at, DeviceModel.mapping_id, DeviceModel.wake_version
    actions.append(wake.set(p.next_wake_at) if p.next_wake_at else wake.remove())
    actions.append(mapping.set(p.mapping_id) if p.mapping_id else mapping.remove())
    actions.append(version.set(p.wake_version) if p.wake_version is not None else version.remove())
    return actions
