"""The console's Firmware page in a real browser: upload with progress, the checksum in the list, a rollout to
the demo group, and the versions chart following the devices' reports."""
from __future__ import annotations

import hashlib
import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ConsoleStack, shot

pytestmark = pytest.mark.slow


def test_upload_roll_out_and_watch_the_version_chart(page: Page, console_stack: ConsoleStack) -> None:
    members = console_stack.api("GET", "/customer/groups/demo-fleet").json()["member_count"]
    version = f"7.{uuid.uuid4().int % 1000}.0"
    image = b"console firmware " * 30_000
    page.get_by_role("link", name="Firmware").click()
    expect(page.get_by_role("heading", name="Firmware", exact=True)).to_be_visible()
    # The demo devices report what they run: the chart's figures list it
    expect(page.get_by_label("Devices per version")).to_contain_text(re.compile(r"\d+\.\d+\.\d+: \d+"))
    # When an image is uploaded through the form
    form = page.get_by_role("form", name="Upload firmware")
    form.get_by_label("Image file").set_input_files({"name": "fw.bin", "mimeType": "application/octet-stream",
                                                     "buffer": image})
    form.get_by_label("Version").fill(version)
    form.get_by_role("button", name="Upload").click()
    # Then the upload's progress reaches the end and the platform vouches for it
    expect(page.get_by_test_id("upload-result")).to_have_text(f"{version}: ready")
    expect(page.get_by_label("Upload progress")).to_have_attribute("value", str(len(image)))
    row = page.locator("table[aria-label='Firmware'] tr", has_text=version)
    expect(row).to_contain_text(hashlib.sha256(image).hexdigest()[:16])
    shot(page, "firmware-uploaded")
    # When it is rolled out to the demo group with an abort threshold
    row.get_by_role("radio").check()
    rollout = page.get_by_role("form", name="Roll out to group")
    rollout.get_by_label("Group").select_option("demo-fleet")
    rollout.get_by_role("button", name="Roll out").click()
    expect(rollout.get_by_role("status")).to_contain_text(f"started for {members} devices")
    # Then every member reports the new version and the chart follows (fleet-wide and for the group)
    expect(page.locator(f"li[data-version='{version}']")).to_have_text(f"{version}: {members}", timeout=90_000)
    page.get_by_label("Scope").select_option("demo-fleet")
    expect(page.locator(f"li[data-version='{version}']")).to_have_text(f"{version}: {members}")
    shot(page, "firmware-rolled-out")
