"""The overview's reads: bounded Queries on the devices' and commands' indexes (never a whole-table read).

Each read stops after `max_pages` DynamoDB pages (1 MB each) and says so: the overview's
cost per load is bounded whatever the fleet's size, and a number that hit the bound is
shown as a lower bound rather than silently wrong.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.commands.models import CommandModel
from chalicelib.core.storage.cursors import Page, cursor_text, query_page
from chalicelib.devices.models import DeviceModel
from chalicelib.overview.schemas import Outcome, SettledCommand


@dataclass
class ReadCost:
    """DynamoDB requests made and whether a read stopped at its page bound."""

    requests: int = 0
    truncated: set[str] = field(default_factory=set)


def _pages(result: Any, max_pages: int, cost: ReadCost, name: str) -> Iterator[dict[str, Any]]:
    """The raw items of at most `max_pages` pages of a PynamoDB query, counting the requests."""
    for number, page in enumerate(result.page_iter, start=1):
        cost.requests += 1
        yield from page.get("Items", [])
        if number >= max_pages:
            if result.page_iter.last_evaluated_key:
                cost.truncated.add(name)
            return


class OverviewReader:
    """Reads the overview's numbers from the by_seen, twin_pending and settled indexes."""

    def __init__(self, max_pages: int = 5) -> None:
        self._max_pages = max_pages

    def presence(self, tenant_id: str, cost: ReadCost) -> list[str]:
        """Every seen_sort value of the tenant's devices (keys-only index: about 12,000 devices a page)."""
        result = DeviceModel.by_seen.query(tenant_id)
        return [item["seen_sort"]["S"] for item in _pages(result, self._max_pages, cost, "devices")]

    def twins_pending(self, tenant_id: str, cost: ReadCost) -> int:
        """How many of the tenant's twins have a desired version not yet reported."""
        result = DeviceModel.twins_pending.query(tenant_id, attributes_to_get=["device_id"])
        return sum(1 for _ in _pages(result, self._max_pages, cost, "twins"))

    def settled_since(self, tenant_id: str, since: datetime, cost: ReadCost) -> list[SettledCommand]:
        """The tenant's commands that became final since `since`, oldest first."""
        result = CommandModel.settled.query(tenant_id, CommandModel.settled_at >= since)
        return [_settled(CommandModel.from_raw_data(item))
                for item in _pages(result, self._max_pages * 2, cost, "commands")]

    def settled_page(self, tenant_id: str, since: datetime, outcome: Outcome | None, limit: int,
                     next_token: str | None) -> Page[SettledCommand]:
        """A page of the tenant's commands final since `since`, newest first, optionally of one outcome."""
        condition: Condition | None = None
        if outcome is Outcome.PUBLISH_FAILED:
            condition = CommandModel.published_at.does_not_exist()
        elif outcome is not None:
            condition = CommandModel.status == outcome.value
        page = query_page(CommandModel, tenant_id, limit, next_token, index=CommandModel.settled,
                          range_key_condition=CommandModel.settled_at >= _window_start(since, next_token),
                          scan_index_forward=False,
                          filter_condition=condition)
        return page.map(_settled)


def _window_start(since: datetime, next_token: str | None) -> datetime:
    """`since`, or the cursor's settled_at once the window's start (read from the clock per page) moved past it.

    DynamoDB refuses a start key outside the range condition: a client paging slowly would get
    a 400 for the cursor this listing gave. Newest first, nothing follows such a cursor in the window.
    """
    text = cursor_text(next_token, "settled_at")
    try:
        cursor = CommandModel.settled_at.deserialize(text) if text else None
    except ValueError:
        cursor = None  # a hand-made cursor: query_page refuses it
    return since if cursor is None or cursor >= since else cursor


def _settled(m: CommandModel) -> SettledCommand:
    latency = None
    if m.acked_at is not None and m.published_at is not None:
        latency = max(0.0, (m.acked_at - m.published_at).total_seconds() * 1000)
    return SettledCommand(command_id=m.command_id, device_id=m.device_id, command_type=m.command_type,
                          status=m.status, created_at=m.created_at, published_at=m.published_at,
                          acked_at=m.acked_at, settled_at=m.settled_at, publish_attempts=int(m.publish_attempts or 0),
                          ack_latency_ms=latency)
