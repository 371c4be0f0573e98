"""Which devices a job snapshot keeps: projected, parallel reads of the registry."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice

from chalicelib.devices.models import DeviceModel
from chalicelib.devices.schemas import DeviceStatus

BATCH_GET_LIMIT = 100
_FIELDS = ["device_id", "status"]


class TargetReader:
    """Reads only id and status of many devices, `workers` BatchGetItem requests in flight."""

    def __init__(self, workers: int = 4) -> None:
        self._workers = workers

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
        """Every device of the tenant that is not disabled, in id order."""
        return [m.device_id for m in DeviceModel.query(tenant_id, attributes_to_get=_FIELDS, page_size=1000)
                if m.status != DeviceStatus.DISABLED.value]


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk
