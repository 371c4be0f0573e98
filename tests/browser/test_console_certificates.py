"""The device page's certificates: make one, download the certificate and key once, revoke it."""
from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import Page, expect

from tests.browser.conftest import ConsoleStack, shot


def test_make_download_once_and_revoke_a_certificate(page: Page, console_stack: ConsoleStack, tmp_path: Path) -> None:
    # Given a device without a certificate
    assert console_stack.api("POST", "/customer/devices", json={"device_id": "cert-cam"}).status_code == 201
    page.goto(console_stack.base_url + "/devices/cert-cam")
    panel = page.get_by_role("region", name="Certificates")
    expect(panel.get_by_text("No certificate yet.")).to_be_visible()
    # When the operator makes one, both files download from the one-time answer
    panel.get_by_role("button", name="New certificate").click()
    fresh = panel.get_by_role("region", name="New certificate")
    expect(fresh).to_contain_text("only now")
    with page.expect_download() as cert_download:
        fresh.get_by_role("button", name="Download certificate").click()
    with page.expect_download() as key_download:
        fresh.get_by_role("button", name="Download private key").click()
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_download.value.save_as(cert_path)
    key_download.value.save_as(key_path)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert cert.public_key() == key.public_key()
    assert cert.subject.rfc4514_string() == "CN=demo.cert-cam"
    shot(page, "certificate-made-key-shown-once")
    fresh.get_by_role("button", name="Done").click()
    # Then the key is gone from the page; the table shows the fingerprint and expiry
    expect(fresh).to_be_hidden()
    key_text = key_path.read_text().strip().splitlines()[1]
    assert key_text not in page.content()
    listed = console_stack.api("GET", "/customer/devices/cert-cam/certificates").json()["certificates"]
    assert len(listed) == 1
    cid = listed[0]["certificate_id"]
    row = panel.locator(f"tr[data-certificate-id='{cid}']")
    expect(row).to_contain_text(cid[:16])
    expect(row.locator("[data-status]")).to_have_text("ACTIVE")
    expect(row).to_contain_text(listed[0]["not_after"][:4])
    # And revoking it asks first, then shows REVOKED (final: no activate, a delete)
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=f"Revoke {cid[:16]}").click()
    expect(row.locator("[data-status]")).to_have_text("REVOKED")
    expect(row.get_by_role("button", name=f"Activate {cid[:16]}")).to_have_count(0)
    assert console_stack.api("GET", f"/customer/devices/cert-cam/certificates/{cid}").json()["status"] == "REVOKED"
    row.get_by_role("button", name=f"Delete {cid[:16]}").click()
    expect(panel.get_by_text("No certificate yet.")).to_be_visible()


