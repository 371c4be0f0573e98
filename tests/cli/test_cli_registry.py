"""`fleet devices`, `groups` and `sites` against a running local stack."""
from __future__ import annotations

import uuid

import pytest

from fleet_cli.client import FleetClient
from tests.cli.conftest import Fleet, LocalStack

pytestmark = pytest.mark.slow


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_devices_list_json_is_every_demo_device_and_the_table_names_them(fleet: Fleet, local_stack: LocalStack) -> None:
    listed = fleet("devices", "list", "--json")
    assert listed.exit_code == 0
    demo = {d["device_id"] for d in local_stack.info["devices"]}
    assert demo <= {d["device_id"] for d in listed.json()}
    table = fleet("devices", "list")
    assert table.exit_code == 0 and "DEVICE_ID" in table.stdout
    assert all(device_id in table.stdout for device_id in demo)


def test_create_prints_the_token_once_and_show_never(fleet: Fleet) -> None:
    device_id = _id("cli-dev")
    created = fleet("devices", "create", device_id, "--name", "CLI device", "--attr", "floor=2", "--json")
    assert created.exit_code == 0
    body = created.json()
    assert body["device_id"] == device_id and body["attributes"] == {"floor": "2"}
    token = body["provision_token"]
    shown = fleet("devices", "show", device_id, "--json")
    assert shown.exit_code == 0 and "provision_token" not in shown.json() and token not in shown.stdout
    # The human form prints the token alone on stdout (capturable), the warning on stderr
    other = fleet("devices", "create", _id("cli-dev"))
    assert other.exit_code == 0 and "shown once" in other.stderr
    assert other.stdout.strip().splitlines()[-1].startswith("tok_")


def test_rotate_token_prints_a_new_token(fleet: Fleet) -> None:
    device_id = _id("cli-rot")
    first = fleet("devices", "create", device_id, "--json").json()["provision_token"]
    rotated = fleet("devices", "rotate-token", device_id, "--json")
    assert rotated.exit_code == 0 and rotated.json()["provision_token"] not in ("", first)


def test_missing_device_exits_1_with_the_api_message_and_no_traceback(fleet: Fleet) -> None:
    missing = fleet("devices", "show", "no-such-device", "--json")
    assert missing.exit_code == 1 and missing.stdout == ""
    assert "HTTP 404" in missing.stderr and "not_found" in missing.stderr and "field: device_id" in missing.stderr
    assert "Traceback" not in missing.stderr
    for hostile in ("..", "../jobs", "sim-1/commands", "sim-1?x=1"):  # an id never reaches another route
        assert fleet("devices", "show", hostile, "--json").exit_code == 1


def test_bad_input_names_the_field(fleet: Fleet) -> None:
    bad = fleet("sites", "create", "--name", "Bad", "--cron", "61 * * * *")
    assert bad.exit_code == 1 and "HTTP 400" in bad.stderr and "wake_schedule_cron" in bad.stderr


def test_disable_enable_and_map_move_the_device_through_its_lifecycle(fleet: Fleet) -> None:
    device_id = _id("cli-life")
    assert fleet("devices", "create", device_id).exit_code == 0
    assert fleet("devices", "disable", device_id, "--json").json()["status"] == "disabled"
    assert fleet("devices", "enable", device_id, "--json").json()["status"] == "pending_mapping"
    mapped = fleet("devices", "map", device_id, "--site", "demo-site", "--json")
    assert mapped.exit_code == 0 and mapped.json()["status"] == "active" and mapped.json()["site_id"] == "demo-site"
    on_site = fleet("devices", "list", "--site", "demo-site", "--status", "active", "--json").json()
    assert device_id in {d["device_id"] for d in on_site}
    assert fleet("devices", "unmap", device_id, "--json").json()["status"] == "pending_mapping"
    assert fleet("devices", "delete", device_id, "--yes").exit_code == 0
    assert fleet("devices", "show", device_id).exit_code == 1


def test_group_with_status_is_filtered_on_the_client(fleet: Fleet) -> None:
    # Given a group with one active and one pending device (the API lists a group without other filters)
    group, active, pending = _id("cli-grp"), _id("cli-act"), _id("cli-pend")
    assert fleet("groups", "create", group, "--name", "CLI group").exit_code == 0
    for device_id in (active, pending):
        assert fleet("devices", "create", device_id).exit_code == 0
    assert fleet("devices", "map", active, "--site", "demo-site").exit_code == 0
    added = fleet("groups", "add", group, active, pending, "--json")
    assert added.exit_code == 0 and [a["added"] for a in added.json()] == [True, True]
    # When listing the group's active devices
    listed = fleet("devices", "list", "--group", group, "--status", "active", "--json")
    # Then only the active member is printed
    assert listed.exit_code == 0 and [d["device_id"] for d in listed.json()] == [active]
    assert {d["device_id"] for d in fleet("devices", "list", "--group", group, "--json").json()} == {active, pending}


def test_groups_list_show_add_remove(fleet: Fleet) -> None:
    group, device_id = _id("cli-g"), _id("cli-m")
    created = fleet("groups", "create", group, "--name", "G", "--description", "from the CLI", "--json")
    assert created.exit_code == 0 and created.json()["group_id"] == group
    assert fleet("devices", "create", device_id).exit_code == 0
    assert fleet("groups", "add", group, device_id).exit_code == 0
    again = fleet("groups", "add", group, device_id)
    assert again.exit_code == 0 and "already a member" in again.stderr
    shown = fleet("groups", "show", group, "--json").json()
    assert shown["members"] == [device_id] and shown["member_count"] == 1
    assert group in {g["group_id"] for g in fleet("groups", "list", "--json").json()}
    assert fleet("groups", "remove", group, device_id).exit_code == 0
    assert fleet("groups", "show", group, "--json").json()["members"] == []
    assert "demo-fleet" in fleet("groups", "list").stdout


def test_sites_create_show_update_list(fleet: Fleet) -> None:
    site = _id("cli-site")
    created = fleet("sites", "create", site, "--name", "North", "--cron", "30 6 * * *", "--timezone",
                    "America/New_York", "--program", "pilot", "--json")
    assert created.exit_code == 0 and created.json()["timezone"] == "America/New_York"
    shown = fleet("sites", "show", site, "--json").json()
    assert shown["program"] == "pilot" and shown["device_count"] == 0
    updated = fleet("sites", "update", site, "--cron", "0 */4 * * *", "--clear-program", "--json").json()
    assert updated["wake_schedule_cron"] == "0 */4 * * *" and updated["program"] is None
    assert updated["schedule_changed"] is True
    assert site in {s["site_id"] for s in fleet("sites", "list", "--json").json()}
    assert fleet("sites", "update", site).exit_code == 2  # nothing to change is a usage error


def test_paging_follows_next_token_in_body_and_header(local_stack: LocalStack, fleet: Fleet) -> None:
    # Given more devices and commands than one page of 2
    client = FleetClient(local_stack.info["api_url"], local_stack.info["operator_token"], page_size=2)
    every = [d["device_id"] for d in client.items("/customer/devices", "devices")]
    assert len(every) >= 5 and len(set(every)) == len(every)
    assert every == [d["device_id"] for d in fleet("devices", "list", "--json").json()]
    for _ in range(3):
        assert fleet("commands", "send", "sim-3", "ping").exit_code == 0
    history = [c["command_id"] for c in client.header_items("/customer/devices/sim-3/commands")]
    assert len(history) >= 3 and len(set(history)) == len(history)
    # And --limit stops early
    assert len(fleet("devices", "list", "--limit", "3", "--json").json()) == 3


def test_names_are_printed_as_written_never_as_markup(fleet: Fleet) -> None:
    device_id, name = _id("cli-markup"), "[/oops] [bold]lab[/bold]"
    assert fleet("devices", "create", device_id, "--name", name).exit_code == 0
    shown = fleet("devices", "show", device_id)
    assert shown.exit_code == 0 and name in shown.stdout
    listed = fleet("devices", "list")
    assert listed.exit_code == 0 and name in listed.stdout
