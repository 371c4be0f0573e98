"""A job's snapshot keeps exactly the existing, enabled targets, and reads them in the fewest requests:
a group of most of the fleet from the keys-only by-status index, a small group member by member."""
from __future__ import annotations

from collections import Counter

from chalicelib.core.clock import utcnow
from chalicelib.core.storage.batch import BatchWriter, model_sender
from chalicelib.devices.models import DeviceModel
from chalicelib.devices.schemas import Device, DeviceStatus
from chalicelib.devices.store import new_device_items
from chalicelib.jobs.targets import TargetReader
from tests.integration.test_one_write_ack import dynamodb_calls
from tests.support import Api


def _seed(tenant_id: str, n: int) -> dict[str, DeviceStatus]:
    """n devices, every 7th disabled and every 5th (not disabled) pending mapping."""
    statuses = {f"d-{i:04d}": DeviceStatus.DISABLED if i % 7 == 0 else
                DeviceStatus.PENDING_MAPPING if i % 5 == 0 else DeviceStatus.ACTIVE for i in range(n)}
    now = utcnow()
    items = (new_device_items(Device(tenant_id=tenant_id, device_id=d, status=s, created_at=now), f"h-{tenant_id}-{d}",
                              "x")[0].serialize() for d, s in statuses.items())
    BatchWriter(model_sender(DeviceModel), workers=2).write(puts=items)
    return statuses


def test_a_group_of_most_of_the_fleet_is_checked_against_the_status_index(api: Api) -> None:
    # Given a tenant of 600 devices, and a target list of 550 of them, 20 unknown ids and a repeat, shuffled
    tenant_id = api.tenant_id
    statuses = _seed(tenant_id, 600)
    wanted = [*reversed(list(statuses)[:550]), *[f"gone-{i}" for i in range(20)], "d-0001"]
    # When the snapshot reads which of them are enabled
    with dynamodb_calls() as counts:
        kept = TargetReader(workers=1).snapshot(tenant_id, wanted)
    # Then it keeps exactly the existing, enabled ones in the order given, once, with one Query per enabled status
    expected = [d for d in reversed(list(statuses)[:550]) if statuses[d] is not DeviceStatus.DISABLED]
    assert kept == expected
    assert counts == Counter(Query=2)


def test_a_small_group_of_a_large_tenant_is_read_member_by_member(api: Api) -> None:
    # Given a tenant of 600 devices and a group of 150 of them
    tenant_id = api.tenant_id
    statuses = _seed(tenant_id, 600)
    wanted = list(statuses)[:150]
    # When the snapshot reads them
    with dynamodb_calls() as counts:
        kept = TargetReader(workers=1).snapshot(tenant_id, wanted)
    # Then two BatchGetItems (100 members each) answer it, not a walk of the whole tenant
    assert kept == [d for d in wanted if statuses[d] is not DeviceStatus.DISABLED]
    assert counts == Counter(BatchGetItem=2)


def test_the_whole_fleet_is_listed_from_the_status_index_in_id_order(api: Api) -> None:
    tenant_id = api.tenant_id
    statuses = _seed(tenant_id, 300)
    with dynamodb_calls() as counts:
        kept = TargetReader().enabled_in_tenant(tenant_id)
    assert kept == sorted(d for d, s in statuses.items() if s is not DeviceStatus.DISABLED)
    assert counts == Counter(Query=2)
