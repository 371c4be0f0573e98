"""Which devices a job snapshot keeps: the tenant's enabled devices from the keys-only by-status index
(thousands per request) or projected, parallel reads of the members, whichever costs fewer requests."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from math import ceil

from chalicelib.devices.index import status_index_key
from chalicelib.devices.models import DeviceModel
from chalicelib.devices.schemas import DeviceStatus

BATCH_GET_LIMIT = 100
_FIELDS = ["device_id", "status"]
ENABLED = (DeviceStatus.ACTIVE, DeviceStatus.PENDING_MAPPING)


class TargetReader:
    """Reads only id and status of many devices, `workers` BatchGetItem requests in flight."""

    def __init__(self, workers: int = 4) -> None:
        self._workers = workers

    def snapshot(self, tenant_id: str, device_ids: Iterable[str]) -> list[str]:
        """`enabled` for a whole target list at once (a job's snapshot of a group).

        The ids are checked against the tenant's enabled devices as the by-status index lists
        them, when that walk takes at most half the requests reading the ids would: a group of
        most of the fleet costs a few Queries instead of one BatchGetItem per 100 members. A
        small group in a large tenant is read member by member (the abandoned walk costs at most
        half again). Not for page-by-page walks, which would list the tenant once per page.
        """
        ordered = list(dict.fromkeys(device_ids))
        budget = ceil(len(ordered) / BATCH_GET_LIMIT) // 2
        listed = enabled_in_index(tenant_id, budget) if budget >= len(ENABLED) else None
        if listed is not None:
            return [d for d in ordered if d in listed]
        return self.enabled(tenant_id, ordered)

    def enabled(self, tenant_id: str, device_ids: Iterable[str]) -> list[str]:
        """The ids among `device_ids` that exist and are not disabled, in the order given."""
        ordered = list(dict.fromkeys(device_ids))
        chunks = list(_chunks(ordered, BATCH_GET_LIMIT))

        def statuses(chunk: list[str]) -> dict[str, str]:
            models = DeviceModel.batch_get([(tenant_id, d) for d in chunk], attributes_to_get=_FIELDS)
            return {m.device_id: m.status for m in models}

        if self._workers <= 1 or len(chunks) <= 1:
            found = [statuses(c) for c in chunks]
        else:
            with ThreadPoolExecutor(self._workers, thread_name_prefix="target-read") as pool:
                found = list(pool.map(statuses, chunks))
        status = {k: v for part in found for k, v in part.items()}
        return [d for d in ordered if d in status and status[d] != DeviceStatus.DISABLED.value]

    def enabled_in_tenant(self, tenant_id: str) -> list[str]:
        """Every device of the tenant that is not disabled, in id order (from the keys-only by-status index)."""
        listed = enabled_in_index(tenant_id, None)
        assert listed is not None  # no budget: the walk always finishes
        return sorted(listed)


def enabled_in_index(tenant_id: str, budget: int | None) -> set[str] | None:
    """The tenant's devices in an enabled status, or None when listing them would take more than `budget`
    Query requests (1 MB pages of keys: thousands of devices each)."""
    found: set[str] = set()
    used = 0
    for status in ENABLED:
        pages = DeviceModel.by_status.query(status_index_key(tenant_id, status.value)).page_iter
        while True:
            if budget is not None and used >= budget:
                return None
            used += 1
            try:
                page = next(pages)
            except StopIteration:
                break
            found.update(item["device_id"]["S"] for item in page.get("Items", []))
            if pages.last_evaluated_key is None:
                break
    return found


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk
