"""`fleet devices certs` against a running local stack: PEM files 0600, listing, revocation."""
from __future__ import annotations

import stat
import uuid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from tests.cert_support import csr_pem
from tests.cli.conftest import Fleet

pytestmark = pytest.mark.slow


def test_create_writes_owner_only_pem_files_list_shows_it_and_revoke_is_final(fleet: Fleet, tmp_path: Path) -> None:
    device_id = f"cli-cert-{uuid.uuid4().hex[:8]}"
    assert fleet("devices", "create", device_id).exit_code == 0
    made = fleet("devices", "certs", "create", device_id, "--out", str(tmp_path), "--days", "30", "--json")
    assert made.exit_code == 0, made.stderr
    body = made.json()
    cert_file, key_file = tmp_path / f"{device_id}.cert.pem", tmp_path / f"{device_id}.key.pem"
    for path in (cert_file, key_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    assert cert.subject.rfc4514_string().endswith(f".{device_id}")
    assert "PRIVATE KEY" not in made.stdout  # the key went to the file only
    listed = fleet("devices", "certs", "list", device_id, "--json")
    assert [c["certificate_id"] for c in listed.json()] == [body["certificate_id"]]
    revoked = fleet("devices", "certs", "revoke", device_id, body["certificate_id"], "--json")
    assert revoked.exit_code == 0 and revoked.json()["status"] == "REVOKED"
    again = fleet("devices", "certs", "revoke", device_id, body["certificate_id"], "--inactive")
    assert again.exit_code != 0 and "status" in again.stderr


def test_create_from_a_csr_writes_no_key(fleet: Fleet, tmp_path: Path) -> None:
    device_id = f"cli-csr-{uuid.uuid4().hex[:8]}"
    fleet("devices", "create", device_id)
    csr = tmp_path / "device.csr"
    csr.write_text(csr_pem(ec.generate_private_key(ec.SECP256R1())))
    made = fleet("devices", "certs", "create", device_id, "--csr", str(csr), "--out", str(tmp_path / "out"))
    assert made.exit_code == 0, made.stderr
    assert (tmp_path / "out" / f"{device_id}.cert.pem").exists()
    assert not (tmp_path / "out" / f"{device_id}.key.pem").exists()


def test_create_never_overwrites_a_key_file_and_then_issues_nothing(fleet: Fleet, tmp_path: Path) -> None:
    # Given a certificate made with a server key: its key file is the only copy there is
    device_id = f"cli-again-{uuid.uuid4().hex[:8]}"
    fleet("devices", "create", device_id)
    assert fleet("devices", "certs", "create", device_id, "--out", str(tmp_path)).exit_code == 0
    key_file = tmp_path / f"{device_id}.key.pem"
    first_key = key_file.read_bytes()
    # When the same command runs again into the same folder
    again = fleet("devices", "certs", "create", device_id, "--out", str(tmp_path))
    # Then it refuses, naming the file, keeps the key, and no second certificate was issued
    assert again.exit_code != 0 and key_file.name in again.stderr, again.stderr
    assert key_file.read_bytes() == first_key
    assert len(fleet("devices", "certs", "list", device_id, "--json").json()) == 1
