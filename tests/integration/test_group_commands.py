"""Group and site commands: one command per enabled member, followed by one batch id."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.commands.batches.schemas import BatchTarget
from tests.commands_support import drain
from tests.conftest import Stack
from tests.integration.group_commands_support import all_commands, finish, seed_group, send_group
from tests.support import Api

BATCH_TARGETS = [t.value for t in BatchTarget]


@pytest.mark.slow
def test_a_group_command_to_1000_devices_gives_each_enabled_member_one_command(stack: Stack, api: Api) -> None:
    # Given a group of 1,000 devices, 10 of them disabled, and a watcher of the tenant's command topics
    disabled = [f"dev-{i:05d}" for i in range(0, 1000, 100)]
    devices = seed_group(api.tenant_id, "fleet", 1000, disabled=frozenset(disabled))
    watcher = stack.observer()
    watcher.subscribe(f"tenant/{api.tenant_id}/device/+/commands")
    # When the operator sends one command to the group
    batch = send_group(api, "fleet", {"command_type": "capture_image", "command_params": {"count": 2}})
    # Then the batch is accepted, and (the schedule finishing what the POST had no time for)
    # sent: 990 commands, 10 members skipped
    assert batch["status"] in ("sending", "sent") and batch["sent"] + batch["skipped"] == batch["targeted"]
    assert batch["target_type"] == "group" and batch["target_id"] == "fleet"
    view = finish(api, batch)
    assert (view["targeted"], view["sent"], view["skipped"]) == (1000, 990, 10)
    # And the batch view counts them per status and lists each enabled device once
    assert view["counts"] == {"queued": 990, "delivered": 0, "missed": 0, "expired": 0}
    assert view["published"] == 990
    commands = all_commands(api, batch["batch_id"])
    assert sorted(c["device_id"] for c in commands) == sorted(set(devices) - set(disabled))
    assert len({c["command_id"] for c in commands}) == 990
    # And each device's own history holds its command, the disabled ones none
    one = commands[500]
    history = api.get(f"/customer/devices/{one['device_id']}/commands").body
    assert [(c["command_id"], c["batch_id"], c["command_params"]) for c in history] == [
        (one["command_id"], batch["batch_id"], {"count": 2})]
    assert api.get(f"/customer/devices/{disabled[3]}/commands").body == []
    # And the broker carried one message per enabled device
    assert len({topic for topic, _ in drain(watcher, quiet_s=1.0)}) == 990
    watcher.close()


def test_acks_move_the_batch_counts(api: Api) -> None:
    # Given a batch to three devices, one of which ACKs over HTTP
    tokens = dict(api.create_device(f"cam-{i}") for i in range(3))
    assert api.post("/customer/groups", {"group_id": "cams", "name": "Cams"}).status == 201
    for device_id in tokens:
        assert api.put(f"/customer/groups/cams/members/{device_id}").status == 201
    batch = send_group(api, "cams", {"command_type": "ping"})
    mine = {c["device_id"]: c for c in all_commands(api, batch["batch_id"])}
    ack = api.device_call("POST", f"/device/v1/commands/{mine['cam-1']['command_id']}/ack", tokens["cam-1"],
                          {"status": "ok"})
    assert ack.status == 200, ack.body
    # When the operator reads the batch
    view = api.get(f"/customer/command-batches/{batch['batch_id']}").body
    # Then one command is delivered and two still queued
    assert view["counts"] == {"queued": 2, "delivered": 1, "missed": 0, "expired": 0}
    assert [c["status"] for c in view["commands"]] == ["queued", "delivered", "queued"]


def test_a_site_command_reaches_the_sites_enabled_devices(api: Api) -> None:
    # Given a site with three mapped devices, one disabled, and an unmapped device
    assert api.post("/customer/sites", {"site_id": "barn", "name": "Barn", "wake_schedule_cron": "0 6 * * *"}
                    ).status == 201
    for i in range(3):
        device_id, _ = api.create_device(f"s-{i}")
        assert api.put(f"/customer/devices/{device_id}/site", {"site_id": "barn"}).status == 200
    api.create_device("elsewhere")
    assert api.post("/customer/devices/s-2/disable").status == 200
    # When the operator sends a command to the site
    resp = api.post("/customer/sites/barn/commands", {"command_type": "capture_image", "expires_in_minutes": 5})
    # Then the two enabled devices get it, the disabled one is skipped
    assert resp.status == 202, resp.body
    sent = finish(api, resp.body)
    assert (sent["target_type"], sent["sent"], sent["skipped"]) == ("site", 2, 1)
    commands = all_commands(api, resp.body["batch_id"])
    assert [c["device_id"] for c in commands] == ["s-0", "s-1"]
    assert all(c["command_type"] == "capture_image" for c in
               (api.get(f"/customer/devices/{d}/commands?limit=1").body[0] for d in ("s-0", "s-1")))
    assert all(c["command_type"] != "capture_image" for c in api.get("/customer/devices/elsewhere/commands").body)


def test_a_repeated_client_token_returns_the_first_batch(api: Api) -> None:
    # Given a batch sent with a client token
    seed_group(api.tenant_id, "g", 5)
    body = {"command_type": "reboot", "command_params": {"delay_s": 5}, "client_token": "reboot-all-1"}
    first = send_group(api, "g", body)
    # When the same request comes again, and then the token with another body
    again = send_group(api, "g", body, status=200)
    other = api.post("/customer/groups/g/commands", {**body, "command_params": {"delay_s": 9}})
    # Then the repeat names the first batch and sends nothing more; the other body is a conflict
    assert again["batch_id"] == first["batch_id"] and again["sent"] == 5
    assert other.status == 409 and other.body["field"] == "client_token"
    assert len(all_commands(api, first["batch_id"])) == 5
    assert len(api.get("/customer/command-batches").body["batches"]) == 1
    assert len(api.get("/customer/devices/dev-00000/commands").body) == 1


@pytest.mark.parametrize("target", BATCH_TARGETS)
def test_foreign_and_unknown_targets_are_404(api: Api, other_api: Api, target: str) -> None:
    # Given a group and a site of another tenant
    seed_group(other_api.tenant_id, "theirs", 2)
    assert other_api.post("/customer/sites", {"site_id": "theirs", "name": "T", "wake_schedule_cron": "0 6 * * *"}
                          ).status == 201
    # When this tenant sends to their ids, to unknown ids and to malformed ids
    for target_id in ("theirs", "nothing-here", "bad%20id"):
        resp = api.post(f"/customer/{target}s/{target_id}/commands", {"command_type": "ping"})
        # Then each is a 404 naming the path field, and nothing was sent
        assert resp.status == 404, (target_id, resp.body)
        assert resp.body["field"] == f"{target}_id"
    assert api.get("/customer/command-batches").body["batches"] == []
    assert other_api.get("/customer/devices/dev-00000/commands").body == []


def test_a_foreign_batch_is_404(api: Api, other_api: Api) -> None:
    seed_group(other_api.tenant_id, "theirs", 1)
    theirs = send_group(other_api, "theirs")
    assert api.get(f"/customer/command-batches/{theirs['batch_id']}").status == 404
    assert api.get("/customer/command-batches/not-a-batch").status == 404
    assert api.get("/customer/command-batches").body["batches"] == []


@pytest.mark.parametrize(("body", "field"), [
    ({"command_type": "Not A Type"}, "command_type"),
    ({"command_type": "ping", "expires_in_minutes": 0}, "expires_in_minutes"),
    ({"command_type": "ping", "expires_in_minutes": 10**9}, "expires_in_minutes"),
    ({"command_type": "ping", "command_params": []}, "command_params"),
    ({"command_type": "update_firmware", "command_params": {"url": "https://x/y.bin", "version": "1"}},
     "command_params.sha256"),
    ({"command_type": "ping", "target": "all"}, "target"),
    ({}, "command_type"),
])
def test_a_bad_body_is_400_naming_the_field_and_sends_nothing(api: Api, body: dict[str, Any], field: str) -> None:
    seed_group(api.tenant_id, "g", 2)
    resp = api.post("/customer/groups/g/commands", body)
    assert resp.status == 400, resp.body
    assert resp.body["field"] == field
    assert api.get("/customer/command-batches").body["batches"] == []
    assert api.get("/customer/devices/dev-00000/commands").body == []


def test_a_device_id_in_two_tenants_gets_only_its_tenants_command(api: Api, other_api: Api) -> None:
    # Given the same device ids and group id in two tenants
    seed_group(api.tenant_id, "floor", 3)
    seed_group(other_api.tenant_id, "floor", 3)
    # When one tenant commands its group
    batch = send_group(api, "floor", {"command_type": "ping"})
    # Then its devices have the command and the other tenant's namesakes nothing
    assert batch["sent"] == 3
    for i in range(3):
        assert len(api.get(f"/customer/devices/dev-{i:05d}/commands").body) == 1
        assert other_api.get(f"/customer/devices/dev-{i:05d}/commands").body == []
    assert other_api.get("/customer/command-batches").body["batches"] == []


def test_an_empty_group_gives_a_sent_batch_of_nothing(api: Api) -> None:
    assert api.post("/customer/groups", {"group_id": "empty", "name": "Empty"}).status == 201
    batch = send_group(api, "empty", {"command_type": "ping"})
    assert (batch["status"], batch["targeted"], batch["sent"]) == ("sent", 0, 0)
