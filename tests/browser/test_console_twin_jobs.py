"""The console's twin, jobs and sites flows in a real browser."""
from __future__ import annotations

import json
import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ConsoleErrors, ConsoleStack, shot
from tests.browser.test_console_devices import open_device

pytestmark = pytest.mark.slow


def test_editing_desired_state_shows_pending_then_synced(page: Page) -> None:
    # Given sim-1's twin panel
    open_device(page, "sim-1")
    badge = page.get_by_test_id("sync-status")
    expect(badge).not_to_have_text("pending")
    marker = uuid.uuid4().hex[:8]
    # When the operator edits the desired document and saves it
    page.get_by_role("button", name="Edit desired state").click()
    editor = page.get_by_label(re.compile(r"Desired state \(JSON"))
    desired = json.loads(editor.input_value() or "{}")
    desired["console_marker"] = marker
    editor.fill(json.dumps(desired))
    page.get_by_role("button", name="Save desired state").click()
    # Then the badge reads pending, then synced once the device reported it
    expect(badge).to_have_text("pending")
    shot(page, "twin-pending")
    expect(badge).to_have_text("synced")
    expect(page.get_by_label("Reported state")).to_contain_text(marker)
    expect(page.get_by_label("Delta")).to_have_text("{}")
    shot(page, "twin-synced")


def test_a_stale_version_is_explained_and_the_latest_can_be_loaded(
        page: Page, console_stack: ConsoleStack, console_errors: ConsoleErrors) -> None:
    console_errors.expect("409")  # the browser logs the refused request itself
    open_device(page, "sim-2")
    page.get_by_role("button", name="Edit desired state").click()
    editor = page.get_by_label(re.compile(r"Desired state \(JSON"))
    # Given someone else changes the desired state while the editor is open
    changed = console_stack.api("PATCH", "/customer/devices/sim-2/twin/desired", json={"desired": {"by_api": 1}})
    assert changed.status_code == 200
    editor.fill(json.dumps({"by_console": 2}))
    page.get_by_role("button", name="Save desired state").click()
    # Then the console explains the 409 instead of overwriting
    alert = page.get_by_role("alert").filter(has_text="changed since you opened the editor")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text(f"version {changed.json()['desired_version']}")
    shot(page, "twin-conflict-explained")
    alert.get_by_role("button", name="Load latest desired state").click()
    expect(editor).to_have_value(re.compile(r'"by_api": 1'))


def test_group_job_created_in_the_dialog_completes_with_its_progress(page: Page) -> None:
    # Given the jobs page, the operator opens "Create job"
    page.get_by_role("link", name="Jobs", exact=True).click()
    page.get_by_role("button", name="Create job").click()
    dialog = page.get_by_role("dialog", name="Create job")
    expect(dialog).to_be_visible()
    # When they target the demo group with an update_config document
    dialog.get_by_label("A group").check()
    dialog.get_by_label("Group", exact=True).select_option("demo-fleet")
    dialog.get_by_label("Document type").fill("update_config")
    dialog.get_by_label("Document parameters (JSON)").fill('{"config": {"interval_s": 45}}')
    dialog.get_by_label("Expires in hours").fill("2")
    dialog.get_by_role("button", name="Create", exact=True).click()
    # Then the job page follows it to COMPLETED with every execution succeeded (the group's four: three
    # simulated devices and the board enrolled by claim, which takes jobs on AWS's topics)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Job ")
    expect(page.get_by_test_id("job-status")).to_have_text("COMPLETED")
    expect(page.get_by_test_id("job-progress-text")).to_have_text("4/4 done · SUCCEEDED 4")
    progress = page.get_by_role("progressbar")
    expect(progress).to_have_attribute("aria-valuenow", "4")
    executions = page.get_by_role("table", name="Executions")
    expect(executions.locator("tbody tr")).to_have_count(4)
    expect(executions).not_to_contain_text("QUEUED")
    shot(page, "job-completed")
    # And the jobs list shows it with its progress bar
    page.get_by_role("link", name="Jobs", exact=True).click()
    page.get_by_label("Status filter").select_option("COMPLETED")
    expect(page.get_by_role("table", name="Jobs").locator("tbody tr").first).to_contain_text("4/4 done")


def test_device_page_create_job_targets_that_device(page: Page) -> None:
    open_device(page, "sim-2")
    page.get_by_role("button", name="Create job").click()
    dialog = page.get_by_role("dialog", name="Create job")
    expect(dialog.get_by_label("Device id")).to_have_value("sim-2")
    dialog.get_by_label("Document type").fill("reboot")
    dialog.get_by_label("Document parameters (JSON)").fill("{}")
    dialog.get_by_label("Document parameters (JSON)").press("Tab")
    page.keyboard.press("Tab")
    dialog.get_by_role("button", name="Create", exact=True).press("Enter")
    expect(page.get_by_test_id("job-status")).to_have_text("COMPLETED")
    expect(page.get_by_test_id("job-progress-text")).to_have_text("1/1 done · SUCCEEDED 1")


def test_cancel_a_job_nobody_claims(page: Page, console_stack: ConsoleStack) -> None:
    # Given a device no simulator runs, and a job for it
    created = console_stack.api("POST", "/customer/devices", json={"device_id": "console-idle"})
    assert created.status_code == 201
    job = console_stack.api("POST", "/customer/jobs", json={"document_type": "reboot",
                                                            "target_device_id": "console-idle"})
    assert job.status_code == 201
    page.goto(console_stack.base_url + f"/jobs/{job.json()['job_id']}")
    expect(page.get_by_test_id("job-status")).to_have_text("IN_PROGRESS")
    # When the operator cancels it (and confirms)
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Cancel job").click()
    # Then the job is canceled and its queued execution rejected
    expect(page.get_by_test_id("job-status")).to_have_text("CANCELED")
    expect(page.get_by_role("table", name="Executions")).to_contain_text("REJECTED")


def test_rate_limited_job_shows_held_and_released_devices_and_its_abort_rule(page: Page) -> None:
    # Given the create dialog with a group target
    page.get_by_role("link", name="Jobs", exact=True).click()
    page.get_by_role("button", name="Create job").click()
    dialog = page.get_by_role("dialog", name="Create job")
    dialog.get_by_label("A group").check()
    dialog.get_by_label("Group", exact=True).select_option("demo-fleet")
    dialog.get_by_label("Document type").fill("reboot")
    dialog.get_by_label("Document parameters (JSON)").fill("{}")
    dialog.get_by_text("Rollout and safety").click()
    # When the rate is invalid, the dialog says so under the field and sends nothing
    dialog.get_by_label("Devices notified per minute").fill("0")
    dialog.get_by_role("button", name="Create", exact=True).click()
    expect(dialog.get_by_text("a whole number from 1 to 1000")).to_be_visible()
    # When it is one a minute, with an abort rule and a timeout
    dialog.get_by_label("Devices notified per minute").fill("1")
    dialog.get_by_label("Abort when this % failed").fill("50")
    dialog.get_by_label("After at least this many executed").fill("2")
    dialog.get_by_label("In-progress timeout (minutes)").fill("15")
    dialog.get_by_role("button", name="Create", exact=True).click()
    # Then the job page shows one device released, the others held, and the rules
    expect(page.get_by_test_id("job-rollout")).to_contain_text("1 released · 3 held · 1/min")
    rollout = page.get_by_role("definition").filter(has_text="FAILED ≥ 50% after 2 executed")
    expect(rollout).to_be_visible()
    expect(page.get_by_role("table", name="Executions")).to_contain_text("(held)")
    # And canceling it rejects the held devices too
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Cancel job").click()
    expect(page.get_by_test_id("job-status")).to_have_text("CANCELED")
    expect(page.get_by_test_id("job-rollout")).to_contain_text("0 held")


def test_site_created_with_a_preview_of_its_wake_times_in_its_timezone(page: Page) -> None:
    page.get_by_role("link", name="Sites", exact=True).click()
    page.get_by_role("button", name="Create site").click()
    dialog = page.get_by_role("dialog", name="Create site")
    dialog.get_by_label("Site id").fill("north")
    dialog.get_by_label("Name").fill("North field")
    dialog.get_by_label("Wake schedule (cron)").fill("30 6 * * *")
    dialog.get_by_label("Timezone").fill("America/New_York")
    preview = dialog.get_by_role("list", name="Next wake times")
    expect(preview.get_by_role("listitem")).to_have_count(5)
    expect(preview.get_by_role("listitem").first).to_contain_text("6:30")
    dialog.get_by_label("Wake schedule (cron)").fill("61 * * * *")
    expect(dialog).to_contain_text("Cannot preview")
    dialog.get_by_label("Wake schedule (cron)").fill("30 6 * * *")
    dialog.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("North field")
    # Editing the schedule previews and saves it
    page.get_by_role("button", name="Edit site").click()
    page.get_by_label("Wake schedule (cron)").fill("0 */4 * * *")
    page.get_by_role("button", name="Save site").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    expect(page.locator(".facts")).to_contain_text("0 */4 * * *")
    shot(page, "site-north")


def test_group_members_can_be_added_and_removed(page: Page, console_stack: ConsoleStack) -> None:
    page.get_by_role("link", name="Groups", exact=True).click()
    page.get_by_role("button", name="Create group").click()
    dialog = page.get_by_role("dialog", name="Create group")
    dialog.get_by_label("Group id").fill("console-group")
    dialog.get_by_label("Name").fill("Console group")
    dialog.get_by_role("button", name="Create", exact=True).click()
    page.get_by_role("table", name="Groups").get_by_role("link", name="Console group").click()
    page.get_by_label("Device id").fill("sim-2")
    page.get_by_role("button", name="Add device").click()
    members = page.get_by_role("table", name="Members")
    expect(members.get_by_role("link", name="sim-2")).to_be_visible()
    members.get_by_role("button", name="Remove sim-2").click()
    expect(members).to_contain_text("No members.")


def test_no_log_of_the_stack_holds_the_operator_token(console_stack: ConsoleStack) -> None:
    # Given every browser test above ran through the console with the demo operator's token
    logs = list((console_stack.workdir / "logs").glob("*.log"))
    assert logs, "the stack writes its logs under logs/"
    # Then no log file of the stack contains it (it travelled in a URL fragment and a header)
    token = console_stack.info["operator_token"]
    assert [p.name for p in logs if token in p.read_text(errors="replace")] == []
