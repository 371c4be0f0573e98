"""`fleet provisioning claims` against a running local stack: PEM files 0600, paged listing, revocation."""
from __future__ import annotations

import errno
import functools
import stat
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from fleet_cli.client import FleetClient
from tests.cli.conftest import Fleet, LocalStack

pytestmark = pytest.mark.slow


def _api(stack: LocalStack, method: str, path: str, **kw: Any) -> requests.Response:
    return requests.request(method, stack.info["api_url"] + path, timeout=15, **kw,
                            headers={"Authorization": f"Bearer {stack.info['operator_token']}"})


def _template(stack: LocalStack) -> str:
    name = f"cli-tpl-{uuid.uuid4().hex[:8]}"
    made = _api(stack, "POST", "/customer/provisioning-templates",
                json={"template_name": name, "parameters": {"SerialNumber": {"pattern": "[A-Z0-9]{8}"}},
                      "device_id": "board-{SerialNumber}"})
    assert made.status_code == 201, made.text
    return name


def _claims(stack: LocalStack, template: str) -> list[dict[str, Any]]:
    found = _api(stack, "GET", f"/customer/provisioning-templates/{template}/claim-certificates?limit=100")
    assert found.status_code == 200, found.text
    return list(found.json()["claim_certificates"])


def test_create_writes_the_key_to_a_0600_file_only_and_revoke_is_final(fleet: Fleet, local_stack: LocalStack,
                                                                      tmp_path: Path) -> None:
    # Given a template without claims
    template = _template(local_stack)
    out = tmp_path / "claims"
    # When a claim is made for 30 days
    made = fleet("provisioning", "claims", "create", template, "--days", "30", "--out", str(out))
    # Then both files are the owner's only, the key is the certificate's, and neither stream holds the key
    assert made.exit_code == 0, made.stderr
    cert_file, key_file = out / f"claim-{template}.cert.pem", out / f"claim-{template}.key.pem"
    for path in (cert_file, key_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert cert.public_key() == key.public_key()
    assert "PRIVATE KEY" not in made.stdout + made.stderr
    # And the API has that one claim, ACTIVE, for 30 days, named in the certificate
    [claim] = _claims(local_stack, template)
    assert cert.subject.rfc4514_string() == f"CN=claim-{claim['certificate_id']}"
    assert claim["status"] == "ACTIVE" and claim["certificate_id"] in made.stdout
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days in (29, 30)
    # When it is revoked
    revoked = fleet("provisioning", "claims", "revoke", template, claim["certificate_id"], "--json")
    # Then the API says REVOKED, and REVOKED is final
    assert revoked.exit_code == 0, revoked.stderr
    assert revoked.json()["status"] == "REVOKED" and "certificate_pem" not in revoked.json()
    assert _claims(local_stack, template)[0]["status"] == "REVOKED"
    again = fleet("provisioning", "claims", "revoke", template, claim["certificate_id"], "--inactive")
    assert again.exit_code == 1 and "status" in again.stderr


def test_create_never_overwrites_a_key_file_and_then_issues_nothing(fleet: Fleet, local_stack: LocalStack,
                                                                    tmp_path: Path) -> None:
    # Given a claim already written into a folder (its key file is the only copy there is)
    template = _template(local_stack)
    assert fleet("provisioning", "claims", "create", template, "--out", str(tmp_path)).exit_code == 0
    key_file = tmp_path / f"claim-{template}.key.pem"
    first_key = key_file.read_bytes()
    # When the same command runs again into the same folder
    again = fleet("provisioning", "claims", "create", template, "--out", str(tmp_path))
    # Then it refuses naming the files, keeps the key, and the API issued no second claim
    assert again.exit_code == 2 and key_file.name in again.stderr, again.stderr
    assert key_file.read_bytes() == first_key
    assert len(_claims(local_stack, template)) == 1


def test_list_follows_every_page_and_matches_the_api(fleet: Fleet, local_stack: LocalStack,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Given three claims of a template, and a CLI that reads pages of two
    template = _template(local_stack)
    for _ in range(3):
        assert _api(local_stack, "POST", f"/customer/provisioning-templates/{template}/claim-certificates",
                    json={}).status_code == 201
    monkeypatch.setattr("fleet_cli.app.FleetClient", functools.partial(FleetClient, page_size=2))
    expected = {c["certificate_id"] for c in _claims(local_stack, template)}
    # When they are listed, as JSON and as a table
    listed = fleet("provisioning", "claims", "list", template, "--json")
    table = fleet("provisioning", "claims", "list", template)
    # Then every claim of every page is there once, without its PEM, and the table shows each id
    assert listed.exit_code == 0, listed.stderr
    ids = [c["certificate_id"] for c in listed.json()]
    assert len(ids) == 3 and set(ids) == expected
    assert all("certificate_pem" not in c for c in listed.json())
    assert table.exit_code == 0 and all(i in table.stdout for i in expected)
    assert table.stdout.count("ACTIVE") == 3
    assert len(fleet("provisioning", "claims", "list", template, "--limit", "1", "--json").json()) == 1


def test_an_unknown_template_or_claim_is_an_error_and_writes_nothing(fleet: Fleet, local_stack: LocalStack,
                                                                     tmp_path: Path) -> None:
    missing = f"cli-none-{uuid.uuid4().hex[:8]}"
    made = fleet("provisioning", "claims", "create", missing, "--out", str(tmp_path))
    assert made.exit_code == 1 and "404" in made.stderr
    assert list(tmp_path.iterdir()) == []
    # A claim of another template is not found through this one
    first, second = _template(local_stack), _template(local_stack)
    claim = _api(local_stack, "POST", f"/customer/provisioning-templates/{first}/claim-certificates", json={}).json()
    crossed = fleet("provisioning", "claims", "revoke", second, claim["certificate_id"])
    assert crossed.exit_code == 1 and "404" in crossed.stderr
    assert _claims(local_stack, first)[0]["status"] == "ACTIVE"
    # A name that would be a path is refused before any request
    assert fleet("provisioning", "claims", "create", "../up", "--out", str(tmp_path)).exit_code == 2
    assert list(tmp_path.parent.glob("claim-*")) == []


def test_a_key_that_cannot_be_written_revokes_its_claim_and_leaves_no_file(
        fleet: Fleet, local_stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a disk that fills up after the certificate file is written
    from fleet_cli import provisioning

    real_write = provisioning.write_private

    def full_disk(path: Path, text: str) -> None:
        if path.name.endswith(".key.pem"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, text)

    monkeypatch.setattr(provisioning, "write_private", full_disk)
    template = _template(local_stack)
    # When a claim is made
    made = fleet("provisioning", "claims", "create", template, "--out", str(tmp_path))
    # Then the command fails saying why, the claim whose key is lost is revoked, and no half pair is left
    assert made.exit_code == 1 and "No space left" in made.stderr and "revoked" in made.stderr, made.stderr
    assert [c["status"] for c in _claims(local_stack, template)] == ["REVOKED"]
    assert list(tmp_path.iterdir()) == []
