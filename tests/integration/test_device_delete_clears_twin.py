"""Deleting a device removes its retained desired state from the broker."""
from __future__ import annotations

import queue

import pytest

from tests.conftest import Stack
from tests.support import Api


def test_recreated_device_does_not_inherit_the_old_desired_state(stack: Stack, api: Api) -> None:
    # Given a device whose desired state is retained on the broker
    api.create_device("reborn")
    assert api.patch("/customer/devices/reborn/twin/desired", {"desired": {"mode": "eco"}}).status == 200
    topic = f"tenant/{api.tenant_id}/device/reborn/shadow/desired"
    first = stack.observer()
    first.subscribe(topic)
    assert first.expect()[1]["desired"] == {"mode": "eco"}
    first.close()
    # When it is deleted and created again under the same id
    assert api.delete("/customer/devices/reborn").status == 200
    api.create_device("reborn")
    # Then a fresh subscriber gets no retained document
    fresh = stack.observer()
    fresh.subscribe(topic)
    with pytest.raises(queue.Empty):
        fresh.expect(timeout=0.7)
    fresh.close()
