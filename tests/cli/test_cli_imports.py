"""`fleet devices import` against a running local stack."""
from __future__ import annotations

import stat
import uuid
from pathlib import Path

import pytest
import requests

from tests.cli.conftest import Fleet, LocalStack, Run

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


def _import_with_x509(fleet: Fleet, csv: Path, certs: Path, prefix: str) -> Run:
    """`fleet devices import CSV --certs DIR --x509` of `{prefix}-1` and `-2`: each has its three files, 0600, and
    the first one's certificate names it and matches its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    run = fleet("devices", "import", str(csv), "--certs", str(certs), "--x509", "--json")
    assert run.exit_code == 0, run.stderr
    assert sorted(p.name for p in certs.iterdir()) == sorted(
        f"{prefix}-{n}.{kind}" for n in (1, 2) for kind in ("token", "cert.pem", "key.pem"))
    key_file = certs / f"{prefix}-1.key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate((certs / f"{prefix}-1.cert.pem").read_bytes())
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert cert.public_key() == key.public_key() and cert.subject.rfc4514_string().endswith(f".{prefix}-1")
    return run


def test_import_with_x509_saves_a_certificate_and_its_key_per_created_device(fleet: Fleet, tmp_path: Path) -> None:
    prefix = f"cli-x509-{uuid.uuid4().hex[:6]}"
    csv = tmp_path / "devices.csv"
    csv.write_text(f"device_id\n{prefix}-1\n{prefix}-2\n")
    run = _import_with_x509(fleet, csv, tmp_path / "certs", prefix)
    assert "issued 2 certificates" in run.stderr
    # Without --certs there is nowhere to put the keys
    assert fleet("devices", "import", str(csv), "--x509").exit_code == 2


def test_rows_asking_for_a_certificate_get_their_files_and_x509_issues_only_the_others(fleet: Fleet,
                                                                                      tmp_path: Path) -> None:
    # Given a CSV where one row asks for a certificate and one does not
    prefix = f"cli-row-{uuid.uuid4().hex[:6]}"
    csv = tmp_path / "devices.csv"
    csv.write_text(f"device_id,certificate\n{prefix}-1,yes\n{prefix}-2,no\n")
    # When it is imported with --certs and --x509, then both devices have their token, certificate and key, 0600
    run = _import_with_x509(fleet, csv, tmp_path / "certs", prefix)
    # And the row's own certificate is its only one: --x509 issued a certificate for the other device alone
    assert "issued 1 certificates" in run.stderr
    for n in (1, 2):
        listed = fleet("devices", "certs", "list", f"{prefix}-{n}", "--json")
        assert len(listed.json()) == 1, listed.stdout


def test_a_row_certificate_is_saved_beside_older_files_never_over_them(tmp_path: Path) -> None:
    from fleet_cli.errors import UsageError
    from fleet_cli.imports import _save_certificate

    # Given a folder holding an older key of the device (perhaps the only copy of an ACTIVE certificate)
    (tmp_path / "d-1.key.pem").write_text("OLD KEY")
    credential = {"device_id": "d-1", "certificate_id": "ab" * 32, "certificate_pem": "CERT", "private_key_pem": "KEY"}
    # When the download's certificate is saved
    _save_certificate(tmp_path, credential)
    # Then the old key is kept and the new pair sits beside it, named by the certificate id, 0600
    assert (tmp_path / "d-1.key.pem").read_text() == "OLD KEY"
    new_key = tmp_path / f"d-1.{'ab' * 8}.key.pem"
    assert new_key.read_text() == "KEY" and stat.S_IMODE(new_key.stat().st_mode) == 0o600
    assert (tmp_path / f"d-1.{'ab' * 8}.cert.pem").read_text() == "CERT"
    # And an id that is not a certificate id is never made into a file name
    with pytest.raises(UsageError):
        _save_certificate(tmp_path, {**credential, "certificate_id": "../../etc"})
