"""The detailed health is per tenant: an operator never learns another tenant's backlog."""
from __future__ import annotations

import pytest

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
