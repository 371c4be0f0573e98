"""A batch's commands, read through the commands table's sparse `by_batch` index."""
from __future__ import annotations

from collections import Counter
from itertools import islice

from chalicelib.commands.batches.schemas import BatchMember
from chalicelib.commands.models import CommandModel, batch_key, device_key
from chalicelib.commands.schemas import CommandStatus
from chalicelib.commands.service import BatchRef, batch_command_id
from chalicelib.core.storage.cursors import Page, query_page

BATCH_GET_LIMIT = 100
_COUNTED = ["status", "published_at"]


class BatchMemberReader:
    """Counts and pages of one batch's commands, and which of them exist already."""

    def counts(self, tenant_id: str, batch_id: str) -> tuple[dict[CommandStatus, int], int]:
        """Commands per status, and how many the broker took, over the whole batch.

        One Query page per few thousand commands (the index holds a handful of small
        attributes); the index is eventually consistent, so a change of the last
        moment may not be counted yet.
        """
        statuses: Counter[str] = Counter()
        published = 0
        for m in CommandModel.by_batch.query(batch_key(tenant_id, batch_id), attributes_to_get=_COUNTED):
            statuses[m.status] += 1
            published += m.published_at is not None
        return {s: statuses.get(s.value, 0) for s in CommandStatus}, published

    def page(self, tenant_id: str, batch_id: str, limit: int, next_token: str | None) -> Page[BatchMember]:
        """A page of the batch's commands in device id order."""
        page = query_page(CommandModel, batch_key(tenant_id, batch_id), limit, next_token, index=CommandModel.by_batch)
        return page.map(lambda m: BatchMember(
            device_id=m.device_id, command_id=m.command_id, status=CommandStatus(m.status),
            published_at=m.published_at, fetched_at=m.fetched_at, acked_at=m.acked_at))

    def existing(self, tenant_id: str, batch: BatchRef, device_ids: list[str]) -> set[str]:
        """The devices among `device_ids` that already have the batch's command (strongly consistent).

        For a chunk redone after its runner died: those commands may have been ACKed
        since, and writing them again would queue them anew.
        """
        found: set[str] = set()
        it = iter(device_ids)
        while chunk := list(islice(it, BATCH_GET_LIMIT)):
            keys = [(device_key(tenant_id, d), batch_command_id(batch, d)) for d in chunk]
            found |= {m.device_id for m in CommandModel.batch_get(keys, consistent_read=True,
                                                                  attributes_to_get=["device_id"])}
        return found
