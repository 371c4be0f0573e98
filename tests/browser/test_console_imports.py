"""The console's Import page in a real browser: upload a file, watch it complete, read the refused rows."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ConsoleStack, shot

pytestmark = pytest.mark.slow


def test_an_uploaded_csv_is_imported_with_its_refused_rows_named_and_its_credentials_saved_once(
        page: Page, console_stack: ConsoleStack, tmp_path: Path) -> None:
    # Given a CSV of three devices: one new, one that exists (sim-1), one with a group the tenant lacks
    new_id = f"web-{uuid.uuid4().hex[:6]}"
    csv = tmp_path / "devices.csv"
    csv.write_text(f"device_id,name,groups\n{new_id},From the browser,\nsim-1,,\nweb-x,,no-such-group\n")
    # When the operator uploads it on the Import page
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import devices")).to_be_visible()
    page.get_by_label("File").set_input_files(str(csv))
    page.get_by_role("button", name="Import", exact=True).click()
    # Then the import's page shows it completed, with one row of each outcome
    expect(page.get_by_text("3 of 3 rows done")).to_be_visible()
    counts = page.get_by_role("table", name="Counts per outcome")
    for outcome in ("created", "existed", "refused"):
        expect(counts.locator(f"td[data-outcome='{outcome}']")).to_have_text("1")
    # And the refused row is listed with its number and reason
    refused = page.get_by_role("table", name="Row results").locator("tr[data-row='3']")
    expect(refused).to_contain_text("group no-such-group not found")
    shot(page, "import-completed")
    # When the operator downloads the credentials
    with page.expect_download() as download:
        page.get_by_role("button", name="Download credentials (once)").click()
    saved = Path(download.value.path()).read_text()
    # Then the file holds the new device's token, which the API no longer gives
    assert saved.splitlines()[0] == "device_id,mqtt_username,provision_token"
    assert saved.splitlines()[1].startswith(f"{new_id},demo.{new_id},tok_")
    expect(page.get_by_role("status")).to_contain_text("Saved 1 credentials")
    import_id = page.url.rsplit("/", 1)[1]
    assert console_stack.api("POST", f"/customer/device-imports/{import_id}/credentials").status_code == 409
    # And the new device is in the registry, pending mapping
    assert console_stack.api("GET", f"/customer/devices/{new_id}").json()["status"] == "pending_mapping"


def test_a_file_of_another_type_is_refused_before_upload(page: Page, tmp_path: Path) -> None:
    other = tmp_path / "devices.txt"
    other.write_text("x")
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("File").set_input_files(str(other))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text(".csv")


def test_a_row_certificate_is_saved_with_its_key_in_the_one_download(page: Page, tmp_path: Path) -> None:
    import csv as csv_module
    import io

    # Given a CSV where one row asks for a certificate and one does not
    with_cert, without = f"webc-{uuid.uuid4().hex[:6]}", f"webn-{uuid.uuid4().hex[:6]}"
    csv = tmp_path / "devices.csv"
    csv.write_text(f"device_id,certificate\n{with_cert},yes\n{without},no\n")
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("File").set_input_files(str(csv))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("2 of 2 rows done")).to_be_visible()
    # When the operator downloads the credentials
    with page.expect_download() as download:
        page.get_by_role("button", name="Download credentials (once)").click()
    rows = {r["device_id"]: r for r in csv_module.DictReader(io.StringIO(Path(download.value.path()).read_text()))}
    # Then the row that asked has its certificate and key (quoted PEM cells), the other its token only
    assert rows[with_cert]["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY" in rows[with_cert]["private_key_pem"] and rows[with_cert]["certificate_id"]
    assert rows[without]["certificate_pem"] == "" and rows[without]["provision_token"].startswith("tok_")
