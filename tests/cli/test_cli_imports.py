"""`fleet devices import` against a running local stack."""
from __future__ import annotations

import stat
import uuid
from pathlib import Path

import pytest
import requests

from tests.cli.conftest import Fleet, LocalStack

pytestmark = pytest.mark.slow


def test_import_waits_saves_each_token_once_and_lists_refused_rows(fleet: Fleet, local_stack: LocalStack,
                                                                   tmp_path: Path) -> None:
    # Given a CSV of three devices, one of them with a bad id
    prefix = f"cli-imp-{uuid.uuid4().hex[:6]}"
    csv = tmp_path / "devices.csv"
    csv.write_text(f"device_id,name\n{prefix}-1,One\n{prefix}-2,Two\nbad/id,Three\n")
    certs = tmp_path / "certs"
    # When it is imported with --certs
    run = fleet("devices", "import", str(csv), "--certs", str(certs), "--wait", "--json")
    # Then the import completed, the refused row makes the exit status 3 and is named on stderr
    assert run.exit_code == 3, run.stderr
    summary = run.json()
    assert (summary["status"], summary["created"], summary["refused"]) == ("completed", 2, 1)
    assert "1 of 3 rows refused" in run.stderr
    # And each created device's token is saved, readable by the owner only, and it authenticates the device
    files = sorted(p.name for p in certs.iterdir())
    assert files == [f"{prefix}-1.token", f"{prefix}-2.token"]
    token_file = certs / f"{prefix}-2.token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600 and stat.S_IMODE(certs.stat().st_mode) == 0o700
    beat = requests.post(f"{local_stack.info['api_url']}/device/v1/heartbeat", timeout=10,
                         headers={"X-Provision-Token": token_file.read_text().strip()})
    assert beat.status_code == 200, beat.text
    # And the credentials cannot be downloaded a second time
    again = requests.post(f"{local_stack.info['api_url']}/customer/device-imports/{summary['import_id']}/credentials",
                          headers={"Authorization": f"Bearer {local_stack.info['operator_token']}"}, timeout=10)
    assert again.status_code == 409


def test_import_of_an_unknown_file_type_is_a_usage_error(fleet: Fleet, tmp_path: Path) -> None:
    other = tmp_path / "devices.xlsx"
    other.write_text("x")
    run = fleet("devices", "import", str(other))
    assert run.exit_code == 2 and ".csv" in run.stderr


def test_import_with_x509_saves_a_certificate_and_its_key_per_created_device(fleet: Fleet, tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    prefix = f"cli-x509-{uuid.uuid4().hex[:6]}"
    csv = tmp_path / "devices.csv"
    csv.write_text(f"device_id\n{prefix}-1\n{prefix}-2\n")
    certs = tmp_path / "certs"
    run = fleet("devices", "import", str(csv), "--certs", str(certs), "--x509", "--json")
    assert run.exit_code == 0, run.stderr
    assert sorted(p.name for p in certs.iterdir()) == sorted(
        f"{prefix}-{n}.{kind}" for n in (1, 2) for kind in ("token", "cert.pem", "key.pem"))
    key_file = certs / f"{prefix}-1.key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate((certs / f"{prefix}-1.cert.pem").read_bytes())
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert cert.public_key() == key.public_key() and cert.subject.rfc4514_string().endswith(f".{prefix}-1")
    # Without --certs there is nowhere to put the keys
    assert fleet("devices", "import", str(csv), "--x509").exit_code == 2
