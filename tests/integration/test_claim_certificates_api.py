"""Claim certificates over the API (issue once, list, revoke, tenancy) and the broker files they make:
the claim listener's ACL holds exactly the claims that may enrol, the CRL and the cut take the others."""
from __future__ import annotations

import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from chalicelib.certificates.local_ca import LocalCertificateAuthority
from infra.local.broker_tls import TlsAccess, TlsFiles
from tests.conftest import Stack
from tests.support import Api

TEMPLATE: dict[str, Any] = {"template_name": "esp32", "parameters": {"Serial": {"pattern": "[0-9]{4}"}},
                            "device_id": "esp32-{Serial}", "claim_validity_days": 90}
CLAIMS = "/customer/provisioning-templates/esp32/claim-certificates"


def _users(path: Path) -> set[str]:
    return {line.split(" ", 1)[1] for line in path.read_text().splitlines() if line.startswith("user ")}


def test_a_claim_key_is_answered_once_and_the_certificate_names_the_claim(api: Api) -> None:
    assert api.post("/customer/provisioning-templates", TEMPLATE).status == 201
    made = api.post(CLAIMS, {})
    assert made.status == 201, made.body
    cert = x509.load_pem_x509_certificate(made.body["certificate_pem"].encode())
    key = serialization.load_pem_private_key(made.body["private_key_pem"].encode(), password=None)
    assert cert.public_key() == key.public_key()
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"claim-{made.body['certificate_id']}"
    # The template's claim validity applies unless the request names its own
    assert 89 <= (cert.not_valid_after_utc - datetime.now(timezone.utc)).days <= 90
    short = api.post(CLAIMS, {"expires_in_days": 2}).body
    assert (datetime.fromisoformat(short["not_after"]) - datetime.now(timezone.utc)).days <= 2
    # Neither one nor the listing shows a key again
    one = api.get(f"{CLAIMS}/{made.body['certificate_id']}")
    assert one.status == 200 and "private_key_pem" not in one.body and one.body["template_name"] == "esp32"
    first = api.get(f"{CLAIMS}?limit=1").body
    assert len(first["claim_certificates"]) == 1 and first["next_token"]
    rest = api.get(f"{CLAIMS}?limit=5&next_token={first['next_token']}").body
    listed = {c["certificate_id"] for c in first["claim_certificates"] + rest["claim_certificates"]}
    assert listed == {made.body["certificate_id"], short["certificate_id"]}
    assert "PRIVATE KEY" not in str(first) + str(rest)


def test_bad_input_and_another_tenants_template_or_claim(api: Api, other_api: Api) -> None:
    assert api.post("/customer/provisioning-templates", TEMPLATE).status == 201
    mine = api.post(CLAIMS, {}).body
    for body in ({"expires_in_days": 0}, {"expires_in_days": 4000}, {"expires_in_days": "7"}, {"kind": "x"}):
        resp = api.post(CLAIMS, body)
        assert resp.status == 400, body
    assert api.post("/customer/provisioning-templates/nope/claim-certificates", {}).status == 404
    # Another tenant sees neither the template nor the claim, and cannot revoke it
    assert other_api.post(CLAIMS, {}).status == 404
    assert other_api.get(CLAIMS).status == 404
    assert other_api.get(f"{CLAIMS}/{mine['certificate_id']}").status == 404
    assert other_api.patch(f"{CLAIMS}/{mine['certificate_id']}", {"status": "REVOKED"}).status == 404
    assert api.get(f"{CLAIMS}/{mine['certificate_id']}").body["status"] == "ACTIVE"
    assert api.patch(f"{CLAIMS}/{mine['certificate_id']}", {"status": "PENDING_ACTIVATION"}).status == 409


def test_the_claim_acl_holds_exactly_the_claims_that_may_enrol(api: Api, stack: Stack, tmp_path: Path) -> None:
    # Given claims: active, revoked, inactive, short-lived, and one of a disabled template
    assert api.post("/customer/provisioning-templates", TEMPLATE).status == 201
    assert api.post("/customer/provisioning-templates", {**TEMPLATE, "template_name": "off"}).status == 201
    active, revoked, inactive = (api.post(CLAIMS, {}).body for _ in range(3))
    short = api.post(CLAIMS, {"expires_in_days": 1}).body
    off = api.post("/customer/provisioning-templates/off/claim-certificates", {}).body
    assert api.put("/customer/provisioning-templates/off",
                   {k: v for k, v in TEMPLATE.items() if k != "template_name"} | {"enabled": False}).status == 200
    tls = stack.broker.tls
    assert tls is not None
    files = TlsFiles(tls.ca_file, tls.cert_file, tls.key_file, tmp_path / "crl.pem", tls.mtls_port, tls.token_port)
    authority = LocalCertificateAuthority(tls.ca_file.parent)
    access = TlsAccess(authority, files, tmp_path / "tls_acl")
    access.write(set())
    mine = {f"claim-{c['certificate_id']}" for c in (active, revoked, inactive, short, off)}
    assert _users(tmp_path / "claim_acl") & mine == {f"claim-{active['certificate_id']}",
                                                     f"claim-{revoked['certificate_id']}",
                                                     f"claim-{inactive['certificate_id']}",
                                                     f"claim-{short['certificate_id']}"}
    assert stat.S_IMODE((tmp_path / "claim_acl").stat().st_mode) == 0o600
    # When two are revoked or set inactive, their sessions are cut and the CRL lists them
    assert api.patch(f"{CLAIMS}/{revoked['certificate_id']}", {"status": "REVOKED"}).status == 200
    assert api.patch(f"{CLAIMS}/{inactive['certificate_id']}", {"status": "INACTIVE"}).status == 200
    cut = access.write(set())
    assert {f"claim-{revoked['certificate_id']}", f"claim-{inactive['certificate_id']}"} <= set(cut)
    assert _users(tmp_path / "claim_acl") & mine == {f"claim-{active['certificate_id']}",
                                                     f"claim-{short['certificate_id']}"}
    crl = x509.load_pem_x509_crl((tmp_path / "crl.pem").read_bytes())
    listed = {format(r.serial_number, "x") for r in crl}
    assert {revoked["serial_number"], inactive["serial_number"], off["serial_number"]} <= listed
    assert active["serial_number"] not in listed
    # And a claim past its expiry leaves the ACL (a later clock)
    later = TlsAccess(authority, files, tmp_path / "tls_acl",
                      clock=lambda: datetime.now(timezone.utc) + timedelta(days=2))
    later.write(set())
    assert _users(tmp_path / "claim_acl") & mine == {f"claim-{active['certificate_id']}"}
    # The claim ACL the running broker's sync writes lists the active one too
    stack.sync.sync_once(force=True)
    assert f"claim-{active['certificate_id']}" in _users(stack.broker.workdir / "claim_acl")
