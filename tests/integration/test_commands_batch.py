"""create_many (the sites feature's fan-out) and concurrent use of one client token."""
from __future__ import annotations

import threading

import pytest

from chalicelib.commands.schemas import Command, CreateCommand
from chalicelib.container import container
from chalicelib.core.errors import InvalidInput
from tests.commands_support import drain
from tests.conftest import Stack
from tests.support import Api

WAKE = {"cron": "0 6 * * *", "timezone": "Europe/Berlin", "site_id": "s-1", "site_name": "North"}


def test_create_many_stores_publishes_and_returns_every_command(stack: Stack, api: Api) -> None:
    # Given three devices and a watcher of the tenant's command topics
    devices = [api.create_device()[0] for _ in range(3)]
    watcher = stack.observer()
    watcher.subscribe(f"tenant/{api.tenant_id}/device/+/commands")
    welcome = CreateCommand(command_type="set_wake_schedule", command_params=WAKE)
    items = [(d, welcome) for d in devices for _ in range(20)]
    # When the sites feature queues 60 welcome commands in one call (more than two batches of 25)
    created = container().command_service.create_many(api.tenant_id, items, created_by="sites")
    # Then every command is stored queued, published, and returned in the order given
    assert [c.device_id for c in created] == [d for d, _ in items]
    assert all(c.status.value == "queued" and c.mqtt_published and c.created_by == "sites" for c in created)
    assert len({c.command_id for c in created}) == 60
    assert len(drain(watcher)) == 60
    for device_id in devices:
        history = api.get(f"/customer/devices/{device_id}/commands?limit=100").body
        assert len(history) == 20 and all(c["published_at"] for c in history)
    watcher.close()


def test_create_many_validates_every_item_before_writing_any(api: Api) -> None:
    device_id, _ = api.create_device()
    good = CreateCommand(command_type="ping")
    bad = CreateCommand(command_type="update_firmware", command_params={"url": "https://x/y.bin", "version": "1"})
    with pytest.raises(InvalidInput) as caught:
        container().command_service.create_many(api.tenant_id, [(device_id, good), (device_id, bad)], "sites")
    assert caught.value.field == "command_params.sha256" and caught.value.extra["index"] == 1
    with pytest.raises(InvalidInput) as no_tokens:
        container().command_service.create_many(
            api.tenant_id, [(device_id, CreateCommand(command_type="ping", client_token="t1"))], "sites")
    assert no_tokens.value.field == "client_token"
    assert api.get(f"/customer/devices/{device_id}/commands").body == []


def test_concurrent_requests_with_one_client_token_create_one_command(stack: Stack, api: Api) -> None:
    # Given a watcher of the device's command topic
    device_id, _ = api.create_device()
    watcher = stack.observer()
    watcher.subscribe(f"tenant/{api.tenant_id}/device/{device_id}/commands")
    request = CreateCommand(command_type="reboot", command_params={"delay_s": 3}, client_token="retry-me")
    service = container().command_service
    barrier = threading.Barrier(4)
    results: list[Command | Exception] = []

    def send() -> None:
        barrier.wait()
        try:
            results.append(service.create(api.tenant_id, device_id, request, "op"))
        except Exception as exc:  # a 503 "retry" is allowed; a second command is not
            results.append(exc)

    # When four copies of the request arrive at once
    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # Then one command exists, every successful answer names it, and it was published once
    history = api.get(f"/customer/devices/{device_id}/commands").body
    assert len(history) == 1
    answers = {r.command_id for r in results if isinstance(r, Command)}
    assert answers == {history[0]["command_id"]}
    assert len(drain(watcher)) == 1
    watcher.close()
