"""The console's device flows in a real browser: sign-in, commands, mapping, registering."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.browser.conftest import ConsoleStack, shot

pytestmark = pytest.mark.slow


def open_device(page: Page, device_id: str) -> None:
    page.get_by_role("link", name="Devices", exact=True).click()
    page.get_by_role("table", name="Devices").get_by_role("link", name=device_id, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(device_id)


def test_console_url_opens_the_console_signed_in_and_drops_the_token_from_the_address_bar(
        page: Page, console_stack: ConsoleStack) -> None:
    # Given the console_url the stack printed (token in the fragment)
    assert "#token=" in console_stack.info["console_url"]
    # Then the overview of the demo tenant shows (the console's home), and the token is gone from the URL
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.get_by_test_id("tenant")).to_have_text("tenant demo")
    assert "token" not in page.url
    # And its devices are one click away
    page.get_by_role("link", name="Devices", exact=True).click()
    expect(page.get_by_role("heading", name="Devices")).to_be_visible()
    table = page.get_by_role("table", name="Devices")
    for device_id in ("sim-1", "sim-2", "sim-3"):
        expect(table.get_by_role("link", name=device_id, exact=True)).to_be_visible()
    expect(table.locator("tr[data-device-id='sim-1']")).to_contain_text("demo-fleet")
    expect(table.locator("tr[data-device-id='sim-1']")).to_contain_text("demo-site")


def test_console_without_a_token_asks_for_one_and_accepts_a_pasted_token(
        page: Page, console_stack: ConsoleStack) -> None:
    # Given a tab on the console without a token (the operator signed out)
    page.get_by_role("button", name="Sign out").click()
    page.goto(console_stack.base_url + "/jobs")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    # When the operator pastes a malformed token, then a real one
    page.get_by_label("Operator token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not a JWT")
    page.get_by_label("Operator token").fill(console_stack.info["operator_token"])
    page.get_by_role("button", name="Sign in").click()
    # Then the page they asked for shows
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()


def test_ping_to_sim_1_is_delivered_without_reloading(page: Page) -> None:
    # Given sim-1's device page
    open_device(page, "sim-1")
    page.evaluate("window.__sameDocument = true")
    history = page.get_by_role("table", name="Command history")
    # When the operator clicks the quick command "ping"
    page.get_by_role("group", name="Quick commands").get_by_role("button", name="ping", exact=True).click()
    # Then the newest row is the ping, and it turns delivered by itself
    newest = history.locator("tbody tr").first
    expect(newest).to_contain_text("ping")
    expect(newest.locator("[data-status]")).to_have_text("delivered")
    expect(newest).to_contain_text("pong")
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    # And the status filter narrows the history
    page.get_by_label("Status filter").select_option("expired")
    expect(history).to_contain_text("No commands with status expired")
    shot(page, "device-sim-1-commands")


def test_send_form_follows_the_catalog_and_shows_validation_messages(page: Page) -> None:
    open_device(page, "sim-1")
    page.get_by_text("Send a command with parameters").click()
    form = page.get_by_role("form", name="Send a command")
    form.get_by_label("Command type").select_option("update_firmware")
    # An incomplete firmware update is refused before it leaves the browser, naming the fields
    form.get_by_label("sha256 (required)").fill("abc")
    form.get_by_role("button", name="Send command").click()
    expect(form.get_by_text("64 hexadecimal characters")).to_be_visible()
    expect(form.get_by_label("url (required)")).to_have_attribute("aria-invalid", "true")
    # A capture with a count out of bounds, then a valid one
    form.get_by_label("Command type").select_option("capture_image")
    form.get_by_label("count").fill("99")
    form.get_by_role("button", name="Send command").click()
    expect(form.get_by_text("must be at most 20")).to_be_visible()
    form.get_by_label("count").fill("2")
    form.get_by_role("button", name="Send command").click()
    newest = page.get_by_role("table", name="Command history").locator("tbody tr").first
    expect(newest).to_contain_text("capture_image")
    expect(newest.locator("[data-status]")).to_have_text("delivered")


def test_map_sim_3_to_a_site_makes_it_active_and_it_receives_its_welcome(page: Page) -> None:
    # Given sim-3, which the demo leaves unmapped
    page.get_by_role("link", name="Devices", exact=True).click()
    row = page.get_by_role("table", name="Devices").locator("tr[data-device-id='sim-3']")
    expect(row.get_by_test_id("device-status")).to_have_text("pending_mapping")
    # When the operator maps it to the demo site through the dialog
    row.get_by_role("button", name="Map to site sim-3").click()
    dialog = page.get_by_role("dialog", name="Map sim-3 to a site")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Site").select_option("demo-site")
    dialog.get_by_role("button", name="Map device").click()
    expect(dialog).to_be_hidden()
    # Then it is active on demo-site, and its welcome set_wake_schedule is delivered
    expect(row.get_by_test_id("device-status")).to_have_text("active")
    expect(row).to_contain_text("demo-site")
    shot(page, "devices-after-mapping-sim-3")
    open_device(page, "sim-3")
    expect(page.get_by_test_id("device-site")).to_have_text("demo-site")
    newest = page.get_by_role("table", name="Command history").locator("tbody tr").first
    expect(newest).to_contain_text("set_wake_schedule")
    expect(newest.locator("[data-status]")).to_have_text("delivered")


def test_register_dialog_works_from_the_keyboard_and_shows_the_token_once(
        page: Page, console_stack: ConsoleStack) -> None:
    # Given the devices page, the operator opens "Register device" with the keyboard
    page.get_by_role("link", name="Devices", exact=True).click()
    page.get_by_role("button", name="Register device").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Register device")
    expect(dialog).to_be_visible()
    # Focus moved into the dialog; Escape closes it and reopening starts over
    assert page.evaluate("document.activeElement.closest('dialog') !== null")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Register device").press("Enter")
    expect(dialog).to_be_visible()
    # A malformed id is named before anything is sent
    dialog.get_by_label("Device id").fill("bad id!")
    dialog.get_by_label("Device id").press("Enter")
    expect(dialog.get_by_role("alert")).to_contain_text("letters, digits")
    dialog.get_by_label("Device id").fill("console-cam-1")
    dialog.get_by_label("Name").fill("Console camera")
    dialog.get_by_label("Name").press("Enter")
    # Then the token is shown, once
    token_box = dialog.get_by_label("Provision token")
    expect(token_box).to_have_value(re.compile(r".{16,}"))
    token = token_box.input_value()
    expect(dialog.get_by_test_id("mqtt-username")).to_have_text("demo.console-cam-1")
    shot(page, "register-device-token-shown-once")
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()
    assert token not in page.content()
    row = page.get_by_role("table", name="Devices").locator("tr[data-device-id='console-cam-1']")
    expect(row).to_contain_text("Console camera")
    # And the device it registered really authenticates with that token
    beat = console_stack.http.post(console_stack.info["api_url"] + "/device/v1/heartbeat",
                                   headers={"X-Provision-Token": token}, timeout=15)
    assert beat.status_code == 200
    # Disable and enable from the list
    row.get_by_role("button", name="Disable console-cam-1").click()
    expect(row.get_by_test_id("device-status")).to_have_text("disabled")
    row.get_by_role("button", name="Enable console-cam-1").click()
    expect(row.get_by_test_id("device-status")).to_have_text("pending_mapping")


def test_a_link_to_another_tenant_asks_before_switching(page: Page, console_stack: ConsoleStack) -> None:
    import time as _time

    import jwt

    # Given the console signed in to the demo tenant, and a link carrying another tenant's token
    secret = (console_stack.workdir / "secret").read_text().strip()
    other = jwt.encode({"sub": "someone", "tenant_id": "other", "exp": int(_time.time()) + 600}, secret,
                       algorithm="HS256")
    expect(page.get_by_test_id("tenant")).to_have_text("tenant demo")
    asked: list[str] = []

    def decline(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    # When the operator opens it and declines the switch
    page.goto(console_stack.base_url + "/jobs#token=" + other)
    # Then they were asked, they stay on their own tenant, and the token left the address bar
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
    assert asked and '"other"' in asked[0] and '"demo"' in asked[0]
    expect(page.get_by_test_id("tenant")).to_have_text("tenant demo")
    assert "token" not in page.url
