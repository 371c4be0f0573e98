"""The detailed health is per tenant: an operator never learns another tenant's backlog."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.commands.models import CommandModel
from chalicelib.container import container
from tests.commands_support import send
from tests.support import Api


def test_detailed_health_counts_only_the_callers_own_backlog(api: Api, other_api: Api,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a tenant whose commands could not be published (the broker refuses everything)
    monkeypatch.setattr(container().publisher, "publish_many", lambda messages: [False] * len(messages))
    device_id, _ = api.create_device()
    queued = [send(api, device_id, "ping") for _ in range(2)]
    assert all(c["mqtt_published"] is False for c in queued)
    # When each tenant's operator reads the detailed health
    own = api.get("/customer/health")
    foreign = other_api.get("/customer/health")
    # Then the owner sees its backlog, and the other tenant (which sent nothing) sees none of it
    assert own.status == 200 and own.body["command_queue"]["awaiting_publish"] == 2
    assert foreign.status == 200 and foreign.body["command_queue"]["awaiting_publish"] == 0


class QueryReads:
    """The items each Query on the commands table read (ScannedCount), from botocore's after-call hook."""

    def __init__(self) -> None:
        self.scanned: list[int] = []
        self._client = CommandModel._get_connection().connection.client

    def _after(self, parsed: dict[str, Any], **_: Any) -> None:
        self.scanned.append(int(parsed.get("ScannedCount", 0)))

    def __enter__(self) -> QueryReads:
        self._client.meta.events.register("after-call.dynamodb.Query", self._after)
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.meta.events.unregister("after-call.dynamodb.Query", self._after)


def test_the_backlog_count_reads_only_the_callers_entries_and_at_most_its_cap(
        api: Api, other_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a broker outage: another tenant has 12 commands awaiting publish, the caller 3
    monkeypatch.setattr(container().publisher, "publish_many", lambda messages: [False] * len(messages))
    for owner, n in ((other_api, 12), (api, 3)):
        device_id, _ = owner.create_device()
        for _ in range(n):
            send(owner, device_id, "ping")
    # When the caller reads its detailed health
    with QueryReads() as reads:
        backlog = api.get("/customer/health").body["command_queue"]
    # Then the count is its own, and reading it touched none of the other tenant's entries
    assert sum(reads.scanned) == 3
    assert backlog == {"awaiting_publish": 3, "capped": False}
    # And however large the backlog, the count reads no more than its cap
    with QueryReads() as reads:
        assert container().command_repository.awaiting_publish(other_api.tenant_id, cap=5) == 5
    assert sum(reads.scanned) <= 5
