"""Creating many devices at once: device, token, memberships and the counts they move, in few transactions.

BatchWriteItem cannot be conditioned, and an import must never overwrite a device that is
there already, so devices are written with TransactWriteItems of up to 100 items: each
device and its token conditioned on not existing (and its certificate, for a row that asked
for one), each membership likewise, and one count
update per group and site of the transaction (conditioned on the group or site existing).
A cancelled transaction says which item failed; that device (or group, or site) is taken
out and the rest written again.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.certificates.schemas import Certificate
from chalicelib.certificates.store import CertificateModel, certificate_item
from chalicelib.core.auth import tokens
from chalicelib.core.errors import Unavailable
from chalicelib.core.feature import TableAccess
from chalicelib.core.retry import RetryPolicy
from chalicelib.core.storage.base import connection
from chalicelib.core.storage.errors import failed_conditions
from chalicelib.devices.schemas import Device
from chalicelib.devices.store import new_device_items
from chalicelib.groups.store import GroupModel, MembershipModel, device_key, member_key
from chalicelib.sites.schemas import Site
from chalicelib.sites.store import SiteModel

MAX_ITEMS = 100
BATCH_GET_LIMIT = 100
_EXISTING = ["device_id", "token_hash", "site_id", "next_wake_at", "mapping_id"]
# A transaction cancelled by a concurrent one on the same group or site item is sent again.
CONFLICT_RETRY = RetryPolicy(min_s=0.05, max_s=1.0, max_attempts=6, jitter=1.0)



def bulk_write_access() -> tuple[TableAccess, ...]:
    """What a function creating devices like an imported row touches (an import's resume, an enrolment by claim):
    the devices (existing ones read, new ones written in transactions with their tokens, memberships and group
    and site counts), the registry epoch, welcome commands of mapped rows, the continuous jobs they join."""
    from chalicelib.commands.models import CommandModel
    from chalicelib.devices.models import DeviceModel, RegistryEpochModel, TokenModel
    from chalicelib.jobs.counter_store import JobCounterModel
    from chalicelib.jobs.execution_store import ExecutionModel
    from chalicelib.jobs.store import JobModel
    return (
        TableAccess(DeviceModel, ("BatchGetItem", "PutItem")),
        TableAccess(TokenModel, ("PutItem",)),
        TableAccess(GroupModel, ("BatchGetItem", "UpdateItem")),
        TableAccess(MembershipModel, ("PutItem",)),
        TableAccess(SiteModel, ("BatchGetItem", "UpdateItem")),
        TableAccess(RegistryEpochModel, ("UpdateItem",)),
        TableAccess(CommandModel, ("BatchWriteItem", "UpdateItem")),
        TableAccess(JobModel, ("GetItem", "Query", "UpdateItem"), ("continuous",)),
        TableAccess(ExecutionModel, ("PutItem", "Query"), ("pending",)),
        TableAccess(JobCounterModel, ("Query",)),
    )

@dataclass(frozen=True)
class NewDevice:
    """One device to create, with its token, groups, placement (site, schedule version, mapping id) and,
    when its row asked for one, its certificate."""

    device: Device
    token: str
    groups: tuple[str, ...] = ()
    schedule_version: int | None = None
    mapping_id: str | None = None
    certificate: Certificate | None = None


@dataclass(frozen=True)
class Existing:
    """A device found under an id being imported: its token hash and placement."""

    token_hash: str
    site_id: str | None
    next_wake_at: datetime | None
    mapping_id: str | None


@dataclass
class Written:
    """What a bulk write did: devices created, ids found taken, and rows refused with their reason."""

    created: list[str] = field(default_factory=list)
    existed: list[str] = field(default_factory=list)
    refused: dict[str, tuple[str, str]] = field(default_factory=dict)
    requests: int = 0


class BulkDeviceWriter:
    """Creates devices in transactions of up to 100 items, never over an existing one."""

    def __init__(self, sleep: Callable[[float], None] | None = None) -> None:
        import time

        self._sleep = sleep or time.sleep

    def existing(self, tenant_id: str, device_ids: list[str]) -> dict[str, Existing]:
        """The devices among these ids that exist (strongly consistent), with what a redone chunk needs of them."""
        from chalicelib.devices.models import DeviceModel

        found: dict[str, Existing] = {}
        for start in range(0, len(device_ids), BATCH_GET_LIMIT):
            keys = [(tenant_id, d) for d in device_ids[start:start + BATCH_GET_LIMIT]]
            for m in DeviceModel.batch_get(keys, consistent_read=True, attributes_to_get=_EXISTING):
                found[m.device_id] = Existing(m.token_hash, m.site_id, m.next_wake_at, m.mapping_id)
        return found

    def groups(self, tenant_id: str, group_ids: list[str]) -> set[str]:
        """The groups among these ids that the tenant has."""
        return {m.group_id for start in range(0, len(group_ids), BATCH_GET_LIMIT)
                for m in GroupModel.batch_get([(tenant_id, g) for g in group_ids[start:start + BATCH_GET_LIMIT]],
                                              attributes_to_get=["group_id"])}

    def sites(self, tenant_id: str, site_ids: list[str]) -> dict[str, Site]:
        """The sites among these ids that the tenant has (strongly consistent: their schedule versions count)."""
        return {m.site_id: m.to_record() for start in range(0, len(site_ids), BATCH_GET_LIMIT)
                for m in SiteModel.batch_get([(tenant_id, s) for s in site_ids[start:start + BATCH_GET_LIMIT]],
                                             consistent_read=True)}

    def create(self, tenant_id: str, devices: list[NewDevice], now: datetime) -> Written:
        """Create every device that does not exist yet; see the module docstring."""
        result = Written()
        for batch in _packed(devices):
            self._write(tenant_id, batch, now, result)
        return result

    def _write(self, tenant_id: str, batch: list[NewDevice], now: datetime, result: Written) -> None:
        skip_members: set[tuple[str, str]] = set()
        conflicts = CONFLICT_RETRY.retries(self._sleep)
        next(conflicts)  # the first attempt
        while batch:
            puts, updates = _items(tenant_id, batch, skip_members, now)
            result.requests += 1
            try:
                with TransactWrite(connection=connection()) as tx:
                    for item, condition in puts:
                        tx.save(item, condition=condition)
                    for item, actions, condition in updates:
                        tx.update(item, actions=actions, condition=condition)
            except TransactWriteError as exc:
                failed = failed_conditions(exc)
                if not failed:
                    # A concurrent transaction on a group or site item, or throttling: send again.
                    if next(conflicts, None) is None:
                        raise Unavailable("devices could not be written; the import resumes later",
                                          field="import_id") from exc
                    continue
                batch = _without_failed(batch, failed, puts, updates, skip_members, result)
                continue
            result.created += [d.device.device_id for d in batch]
            return


def _packed(devices: list[NewDevice]) -> list[list[NewDevice]]:
    """Cut the devices into transactions of at most MAX_ITEMS items (their puts and the count updates)."""
    batches: list[list[NewDevice]] = []
    current: list[NewDevice] = []
    counted: set[str] = set()
    size = 0
    for d in devices:
        counts = {f"g:{g}" for g in d.groups} | ({f"s:{d.device.site_id}"} if d.device.site_id else set())
        own = 2 + len(d.groups) + (d.certificate is not None)
        extra = own + len(counts - counted)
        if current and size + extra > MAX_ITEMS:
            batches.append(current)
            current, counted, size = [], set(), 0
            extra = own + len(counts)
        current.append(d)
        counted |= counts
        size += extra
    if current:
        batches.append(current)
    return batches


Put = tuple[Model, Any]
Update = tuple[Model, list[Any], Any]


def _items(tenant_id: str, batch: list[NewDevice], skip_members: set[tuple[str, str]],
           now: datetime) -> tuple[list[Put], list[Update]]:
    from chalicelib.devices.models import DeviceModel, TokenModel

    puts: list[Put] = []
    groups: Counter[str] = Counter()
    sites: dict[str, tuple[int, int | None]] = {}
    for d in batch:
        token_hash = tokens.token_hash(d.token)
        device, token = new_device_items(d.device, token_hash, tokens.mosquitto_password_hash(d.token))
        if d.device.site_id is not None:
            device.mapping_id = d.mapping_id
            device.wake_version = d.schedule_version
            count, version = sites.get(d.device.site_id, (0, d.schedule_version))
            sites[d.device.site_id] = (count + 1, version)
        puts.append((device, DeviceModel.device_id.does_not_exist()))
        puts.append((token, TokenModel.token_hash.does_not_exist()))
        if d.certificate is not None:
            puts.append((certificate_item(d.certificate), CertificateModel.certificate_id.does_not_exist()))
        for group_id in d.groups:
            if (d.device.device_id, group_id) in skip_members:
                continue
            member = MembershipModel(member_key(tenant_id, group_id), d.device.device_id,
                                     device_key=device_key(tenant_id, d.device.device_id), group_id=group_id,
                                     added_at=now)
            puts.append((member, MembershipModel.device_id.does_not_exist()))
            groups[group_id] += 1
    updates: list[Update] = [
        (GroupModel(tenant_id, g), [GroupModel.member_count.add(n)], GroupModel.group_id.exists())
        for g, n in sorted(groups.items())]
    for site_id, (count, version) in sorted(sites.items()):
        condition = SiteModel.site_id.exists()
        if version is not None:
            # The devices' wake times were computed from this schedule: a change meanwhile refuses them.
            condition &= SiteModel.schedule_version == version
        updates.append((SiteModel(tenant_id, site_id), [SiteModel.device_count.add(count)], condition))
    return puts, updates


def _without_failed(batch: list[NewDevice], failed: set[int], puts: list[Put], updates: list[Update],
                    skip_members: set[tuple[str, str]], result: Written) -> list[NewDevice]:
    """The batch minus what made the transaction fail; the failures land in `result`."""
    from chalicelib.devices.models import DeviceModel, TokenModel

    gone_devices: set[str] = set()
    for i in sorted(failed):
        if i < len(puts):
            item = puts[i][0]
            if isinstance(item, DeviceModel):
                gone_devices.add(item.device_id)
                result.existed.append(item.device_id)
            elif isinstance(item, TokenModel):
                gone_devices.add(item.device_id)
                result.refused[item.device_id] = ("its token could not be stored; import the row again", "row")
            elif isinstance(item, CertificateModel):
                gone_devices.add(item.device_id)
                result.refused[item.device_id] = ("its certificate could not be stored; import the row again",
                                                  "certificate")
            elif isinstance(item, MembershipModel):
                # A membership left over from an earlier device of this id: the device is a member already.
                skip_members.add((item.device_id, item.group_id))
            continue
        target = updates[i - len(puts)][0]
        for d in batch:
            if isinstance(target, GroupModel) and target.group_id in d.groups:
                gone_devices.add(d.device.device_id)
                result.refused[d.device.device_id] = (f"group {target.group_id} not found", "groups")
            elif isinstance(target, SiteModel) and d.device.site_id == target.site_id:
                gone_devices.add(d.device.device_id)
                result.refused[d.device.device_id] = (
                    f"site {target.site_id} was deleted or its schedule changed during the import; "
                    "import the row again", "site")
    return [d for d in batch if d.device.device_id not in gone_devices]
