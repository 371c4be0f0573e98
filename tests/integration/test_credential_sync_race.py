"""The broker's credential files under concurrent syncs: the sync thread and the demo (or a test) at once."""
from __future__ import annotations

import threading

from tests.conftest import Stack
from tests.support import Api


def _usernames(stack: Stack, tenant_id: str) -> set[str]:
    lines = (stack.broker.workdir / "passwd").read_text().splitlines()
    return {line.split(":", 1)[0] for line in lines if line.startswith(f"{tenant_id}.")}


def test_many_concurrent_syncs_against_a_changing_registry_end_with_exactly_the_enabled_devices(
        stack: Stack, api: Api) -> None:
    # Given eight threads syncing the broker in a loop, as the sync thread and the demo do at start
    errors: list[BaseException] = []
    done = threading.Event()

    def sync_loop() -> None:
        while not done.is_set():
            try:
                stack.sync.sync_once()
            except BaseException as e:
                errors.append(e)
                return

    threads = [threading.Thread(target=sync_loop) for _ in range(8)]
    for t in threads:
        t.start()
    # When the registry changes under them: devices created, some disabled, some deleted
    try:
        created = [api.create_device(f"race-{i}")[0] for i in range(24)]
        for device_id in created[::3]:
            assert api.post(f"/customer/devices/{device_id}/disable").status == 200
        for device_id in created[1::6]:
            assert api.delete(f"/customer/devices/{device_id}").status == 200
    finally:
        done.set()
        for t in threads:
            t.join(30)
    # Then no sync failed, and one more sync leaves exactly the enabled devices in the broker's files
    assert errors == []
    stack.sync.sync_once()
    expected = {f"{api.tenant_id}.{d}" for d in created} - {f"{api.tenant_id}.{d}" for d in created[::3]} \
        - {f"{api.tenant_id}.{d}" for d in created[1::6]}
    assert _usernames(stack, api.tenant_id) == expected
    acl_users = {line[5:] for line in (stack.broker.workdir / "acl").read_text().splitlines()
                 if line.startswith(f"user {api.tenant_id}.")}
    assert acl_users == expected
    # And no temporary file is left behind; the files stay private
    assert list(stack.broker.workdir.glob(".*.tmp")) == []
    assert (stack.broker.workdir / "passwd").stat().st_mode & 0o777 == 0o600
