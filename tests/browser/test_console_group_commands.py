"""The console's group command: send one command to every member, then follow the batch to delivered."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ConsoleStack, shot

pytestmark = pytest.mark.slow


def test_a_group_command_is_followed_until_every_member_acked(page: Page, console_stack: ConsoleStack) -> None:
    # Given a group of the two simulated devices that ACK pings
    group_id = f"ui-batch-{uuid.uuid4().hex[:8]}"
    assert console_stack.api("POST", "/customer/groups", json={"group_id": group_id, "name": "UI batch"}
                             ).status_code == 201
    for device_id in ("sim-1", "sim-2"):
        assert console_stack.api("PUT", f"/customer/groups/{group_id}/members/{device_id}").status_code == 201
    page.goto(console_stack.base_url + f"/groups/{group_id}")
    expect(page.get_by_role("table", name="Members")).to_contain_text("sim-2")
    # When the operator sends ping to the group
    form = page.get_by_role("form", name="Send a command to the group")
    form.get_by_label("Command type").select_option("ping")
    form.get_by_role("button", name="Send to every member").click()
    # Then the answer says it is sending (202 before any chunk) and links to the batch
    status = form.get_by_role("status")
    expect(status).to_contain_text("Accepted: sending to every member")
    status.get_by_role("link", name="follow the batch").click()
    # And the batch page shows both commands reaching delivered
    expect(page.get_by_role("heading", level=1)).to_contain_text(group_id)
    counts = page.get_by_role("table", name="Counts per status")
    expect(counts.locator("td[data-status=delivered]")).to_have_text("2")
    expect(counts.locator("td[data-status=queued]")).to_have_text("0")
    commands = page.get_by_role("table", name="Commands of the batch")
    expect(commands.locator("tr[data-device-id]")).to_have_count(2)
    shot(page, "group-command-delivered")


def test_a_bad_parameter_is_explained_and_nothing_is_sent(page: Page, console_stack: ConsoleStack) -> None:
    group_id = f"ui-bad-{uuid.uuid4().hex[:8]}"
    assert console_stack.api("POST", "/customer/groups", json={"group_id": group_id, "name": "UI bad"}
                             ).status_code == 201
    page.goto(console_stack.base_url + f"/groups/{group_id}")
    form = page.get_by_role("form", name="Send a command to the group")
    form.get_by_label("Parameters (JSON)").fill("[1, 2]")
    form.get_by_role("button", name="Send to every member").click()
    expect(form).to_contain_text("parameters must be a JSON object")
    batches = console_stack.api("GET", "/customer/command-batches").json()["batches"]
    assert all(b["target_id"] != group_id for b in batches)
