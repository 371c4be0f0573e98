"""A template's page: issue a claim certificate (both files downloaded once), a board enrols with it, revoke it.

The board is a real MQTT client on the stack's claim listener speaking AWS IoT's fleet-provisioning
topics with the files the console downloaded; the numbers the console shows are checked against the API.
"""
from __future__ import annotations

import queue
import time
import uuid
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import Dialog, Download, Page, expect

from tests.browser.conftest import ConsoleStack, shot
from tests.cert_support import logged_in, tls_peer
from tests.support import MqttPeer

CREATE = "$aws/certificates/create/json"


def _template(console_stack: ConsoleStack) -> str:
    name = f"browser-{uuid.uuid4().hex[:6]}"
    made = console_stack.api("POST", "/customer/provisioning-templates", json={
        "template_name": name, "parameters": {"SerialNumber": {"pattern": "[A-Z0-9]{8}"}},
        "device_id": "board-{SerialNumber}", "attributes": {"serial": "{SerialNumber}"}})
    assert made.status_code == 201, made.text
    return name


def _answer(board: MqttPeer, topic: str, body: dict[str, Any], within_s: float = 45.0) -> tuple[str, Any]:
    """Publish a request until an answer comes: a new claim reaches the listener's ACL within a sync."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        board.subscribe(f"{topic}/+")  # again each time: refused while the ACL did not list the claim yet
        board.publish(topic, body)
        try:
            got, payload, _ = board.expect(timeout=3)
            return got, payload
        except queue.Empty:
            continue
    raise AssertionError(f"no answer on {topic}/+ within {within_s}s")


def _answer_dialog(page: Page, accept: bool) -> list[str]:
    """Answer the next confirm; the list receives its message."""
    prompts: list[str] = []

    def answer(dialog: Dialog) -> None:
        prompts.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.once("dialog", answer)
    return prompts


def _enrol(console_stack: ConsoleStack, template: str, cert_pem: str, key_pem: str, folder: Path,
           serial: str) -> MqttPeer:
    mqtt = console_stack.info["mqtt"]
    board = tls_peer(mqtt["host"], mqtt["claim_port"], Path(mqtt["ca_file"]), folder, cert_pem, key_pem,
                     client_id=f"board-{serial.lower()}")
    assert logged_in(board, timeout=10)
    got, created = _answer(board, CREATE, {})
    assert got == f"{CREATE}/accepted", created
    provision = f"$aws/provisioning-templates/{template}/provision/json"
    got, thing = _answer(board, provision, {"certificateOwnershipToken": created["certificateOwnershipToken"],
                                            "parameters": {"SerialNumber": serial}})
    assert got == f"{provision}/accepted", thing
    assert thing["thingName"] == f"{console_stack.info['tenant_id']}.board-{serial}"
    return board


def test_issue_a_claim_a_board_enrols_with_it_the_device_shows_then_revoke(
        page: Page, console_stack: ConsoleStack, tmp_path: Path) -> None:
    # Given a template without claims, listed on the Provisioning page with nothing enrolled
    template = _template(console_stack)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Provisioning").click()
    listed = page.locator(f"tr[data-template='{template}']")
    expect(listed.get_by_test_id("provisioned-count")).to_have_text("0")
    listed.get_by_role("link", name=template).click()
    panel = page.get_by_role("region", name="Claim certificates")
    expect(panel.get_by_text("No claim certificate yet.")).to_be_visible()
    # When the operator makes a claim, after the warning that the key is shown once
    panel.get_by_role("button", name="New claim certificate").click()
    ask = panel.get_by_role("region", name="Issue a claim certificate")
    expect(ask).to_contain_text("The private key is shown once")
    downloads: list[Download] = []
    page.on("download", lambda download: downloads.append(download))
    ask.get_by_role("button", name="Make and download").click()
    expect(panel.get_by_test_id("new-claim")).to_contain_text("not shown again")
    deadline = time.monotonic() + 20
    while len(downloads) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    # Then both files downloaded at once: the key is the certificate's, whose CN names the one claim of the API
    assert sorted(d.suggested_filename for d in downloads) == [f"claim-{template}.cert.pem",
                                                               f"claim-{template}.key.pem"]
    files = {d.suggested_filename.split(".")[-2]: tmp_path / d.suggested_filename for d in downloads}
    for d in downloads:
        d.save_as(tmp_path / d.suggested_filename)
    cert_pem, key_pem = files["cert"].read_text(), files["key"].read_text()
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    assert cert.public_key() == serialization.load_pem_private_key(key_pem.encode(), password=None).public_key()
    [claim] = console_stack.api("GET", f"/customer/provisioning-templates/{template}/claim-certificates"
                                ).json()["claim_certificates"]
    assert cert.subject.rfc4514_string() == f"CN=claim-{claim['certificate_id']}"
    shot(page, "claim-made-files-downloaded")
    # And the page keeps neither PEM: not in the DOM, not in what a later render could show
    assert key_pem.strip().splitlines()[1] not in page.content()
    assert cert_pem.strip().splitlines()[1] not in page.content()
    short = claim["certificate_id"][:16]
    row = panel.locator(f"tr[data-claim-id='{claim['certificate_id']}']")
    expect(row).to_contain_text(short)
    expect(row.locator("[data-status]")).to_have_text("ACTIVE")
    expect(row).to_contain_text(claim["not_after"][:4])

    # When a board holding those files enrols through the claim listener
    serial = uuid.uuid4().hex[:8].upper()
    board = _enrol(console_stack, template, cert_pem, key_pem, tmp_path / "board", serial)
    try:
        # Then the template page counts it as the API does
        shown = console_stack.api("GET", f"/customer/provisioning-templates/{template}").json()
        assert shown["provisioned_count"] == 1
        page.reload()
        expect(page.get_by_test_id("template-provisioned")).to_have_text(str(shown["provisioned_count"]))
        # And the devices list, filtered to the new unmapped devices, shows it pending_mapping, created just now
        page.get_by_role("link", name="unmapped (pending_mapping)").click()
        device = page.locator(f"tr[data-device-id='board-{serial}']")
        # (the row has two badges: the device's status and, once loaded, its twin's sync)
        expect(device.get_by_test_id("device-status")).to_have_text("pending_mapping")
        expect(device.get_by_test_id("device-created")).to_contain_text("ago")
        api_device = console_stack.api("GET", f"/customer/devices/board-{serial}").json()
        assert api_device["status"] == "pending_mapping" and api_device["attributes"] == {"serial": serial}
        shot(page, "claim-enrolled-device-pending-mapping")

        # When the operator revokes the claim, confirming first
        page.go_back()
        row = page.get_by_role("region", name="Claim certificates").locator(
            f"tr[data-claim-id='{claim['certificate_id']}']")
        prompts = _answer_dialog(page, accept=True)
        row.get_by_role("button", name=f"Revoke {short}").click()
        # Then it is REVOKED in the page and the API, no revoke button is left, and the board's session is cut
        expect(row.locator("[data-status]")).to_have_text("REVOKED")
        expect(row.get_by_role("button", name=f"Revoke {short}")).to_have_count(0)
        assert prompts and "never be used again" in prompts[0]
        got = console_stack.api("GET", f"/customer/provisioning-templates/{template}/claim-certificates/"
                                f"{claim['certificate_id']}").json()
        assert got["status"] == "REVOKED"
        assert board.disconnected.wait(30), "the board's claim session outlived the revocation"
    finally:
        board.close()


def test_dismissing_the_confirm_revokes_nothing(page: Page, console_stack: ConsoleStack) -> None:
    template = _template(console_stack)
    made = console_stack.api("POST", f"/customer/provisioning-templates/{template}/claim-certificates", json={})
    assert made.status_code == 201
    claim_id = made.json()["certificate_id"]
    page.goto(f"{console_stack.base_url}/provisioning/{template}")
    row = page.locator(f"tr[data-claim-id='{claim_id}']")
    expect(row.locator("[data-status]")).to_have_text("ACTIVE")
    changes: list[str] = []
    page.on("request", lambda request: changes.append(request.url) if request.method == "PATCH" else None)
    prompts = _answer_dialog(page, accept=False)
    row.get_by_role("button", name=f"Revoke {claim_id[:16]}").click()
    # A later request of the page's own goes after any PATCH the click would have sent
    page.reload()
    expect(page.locator(f"tr[data-claim-id='{claim_id}'] [data-status]")).to_have_text("ACTIVE")
    assert prompts and changes == []
    listed = console_stack.api("GET", f"/customer/provisioning-templates/{template}/claim-certificates").json()
    assert [c["status"] for c in listed["claim_certificates"]] == ["ACTIVE"]
