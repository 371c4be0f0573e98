"""Device certificates over the real code path: issue (server key or CSR), list, status, delete, tenancy."""
from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from chalicelib.certificates import x509 as certs
from chalicelib.certificates.store import CertificateRepository
from tests.cert_support import csr_pem, load
from tests.support import Api


def _certs(device_id: str) -> str:
    return f"/customer/devices/{device_id}/certificates"


def test_server_made_key_is_answered_once_and_the_certificate_names_the_device(api: Api) -> None:
    # Given a device
    api.create_device("meter-1")
    # When the operator asks for a certificate with a server-made key
    made = api.post(_certs("meter-1"), {})
    # Then the answer has the certificate and its private key, once
    assert made.status == 201, made.body
    cert = load(made.body["certificate_pem"])
    key = serialization.load_pem_private_key(made.body["private_key_pem"].encode(), password=None)
    assert cert.public_key() == key.public_key()
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"{api.tenant_id}.meter-1"
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.CLIENT_AUTH])
    der = cert.public_bytes(serialization.Encoding.DER)
    assert made.body["certificate_id"] == hashlib.sha256(der).hexdigest()
    assert made.body["status"] == "ACTIVE"
    # And neither the one nor the listing ever shows the key again
    got = api.get(f"{_certs('meter-1')}/{made.body['certificate_id']}")
    assert got.status == 200 and "private_key_pem" not in got.body
    listed = api.get(_certs("meter-1"))
    assert [c["certificate_id"] for c in listed.body["certificates"]] == [made.body["certificate_id"]]
    assert "PRIVATE KEY" not in str(listed.body)


def test_a_csr_is_signed_with_the_subject_the_server_decides(api: Api) -> None:
    api.create_device("meter-2")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # A CSR naming no one, or the device itself, is signed for the device with the CSR's key
    for cn in (None, f"{api.tenant_id}.meter-2"):
        made = api.post(_certs("meter-2"), {"csr": csr_pem(key, cn)})
        assert made.status == 201, made.body
        assert made.body["private_key_pem"] is None
        cert = load(made.body["certificate_pem"])
        assert cert.public_key() == key.public_key()
        assert cert.subject == certs.device_name(f"{api.tenant_id}.meter-2")
    assert len(api.get(_certs("meter-2")).body["certificates"]) == 2


def test_a_csr_asking_for_another_name_or_a_ca_is_refused_and_nothing_is_signed(api: Api, other_api: Api) -> None:
    api.create_device("meter-3")
    other_api.create_device("victim")
    key = ec.generate_private_key(ec.SECP256R1())
    hostile = {
        "another tenant's device": csr_pem(key, f"{other_api.tenant_id}.victim"),
        "a service user": csr_pem(key, "svc-cloud"),
        "a SAN": csr_pem(key, None, sans=["svc-bridge"]),
        "a CA": csr_pem(key, f"{api.tenant_id}.meter-3", ca=True),
        "not PEM": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
        "a weak key": csr_pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
    }
    for what, csr in hostile.items():
        resp = api.post(_certs("meter-3"), {"csr": csr})
        assert resp.status == 400 and resp.body["field"] == "csr", (what, resp.body)
    assert api.get(_certs("meter-3")).body["certificates"] == []


def _csr_with(key: ec.EllipticCurvePrivateKey, *extensions: tuple[x509.ExtensionType, bool]) -> str:
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
    for value, critical in extensions:
        builder = builder.add_extension(value, critical=critical)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def _unknown_key_algorithm(csr: str) -> str:
    """The CSR with its key's algorithm OID (id-ecPublicKey) changed to one nobody implements."""
    der = x509.load_pem_x509_csr(csr.encode()).public_bytes(serialization.Encoding.DER)
    der = der.replace(bytes.fromhex("06072a8648ce3d0201"), bytes.fromhex("06072a8648ce3d0209"))
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN CERTIFICATE REQUEST-----\n{body}-----END CERTIFICATE REQUEST-----\n"


def test_a_malformed_or_ca_powered_csr_is_a_400_naming_csr_never_a_500(api: Api) -> None:
    api.create_device("meter-7")
    key = ec.generate_private_key(ec.SECP256R1())
    garbage = b"\x30\x03\x82\x01"  # a DER header promising bytes that are not there

    def raw(oid: str) -> tuple[x509.ExtensionType, bool]:
        return x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), garbage), False

    hostile = {
        "a malformed SAN": _csr_with(key, raw("2.5.29.17")),
        "a malformed basic constraints": _csr_with(key, raw("2.5.29.19")),
        "a malformed key usage": _csr_with(key, raw("2.5.29.15")),
        "an unknown key algorithm": _unknown_key_algorithm(_csr_with(key)),
        "key usage certSign and cRLSign": _csr_with(key, (x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False), True)),
    }
    for what, csr in hostile.items():
        resp = api.post(_certs("meter-7"), {"csr": csr})
        assert resp.status == 400 and resp.body["field"] == "csr", (what, resp.status, resp.body)
    assert api.get(_certs("meter-7")).body["certificates"] == []


def test_validity_is_configurable_per_certificate(api: Api) -> None:
    api.create_device("meter-4")
    made = api.post(_certs("meter-4"), {"validity_days": 7})
    not_after = datetime.fromisoformat(made.body["not_after"].replace("Z", "+00:00"))
    assert abs(not_after - (datetime.now(timezone.utc) + timedelta(days=7))) < timedelta(minutes=10)
    default = api.post(_certs("meter-4"), {})
    not_after = datetime.fromisoformat(default.body["not_after"].replace("Z", "+00:00"))
    assert abs(not_after - (datetime.now(timezone.utc) + timedelta(days=365))) < timedelta(minutes=10)
    for bad in ({"validity_days": 0}, {"validity_days": "7"}, {"validity_days": 5000}, {"csr": ""}, {"x": 1}):
        resp = api.post(_certs("meter-4"), bad)
        assert resp.status == 400, (bad, resp.body)


def test_status_follows_aws_iot_rules_and_revoked_is_final(api: Api) -> None:
    api.create_device("meter-5")
    cid = api.post(_certs("meter-5"), {}).body["certificate_id"]
    one = f"{_certs('meter-5')}/{cid}"
    assert api.patch(one, {"status": "INACTIVE"}).body["status"] == "INACTIVE"
    assert api.patch(one, {"status": "ACTIVE"}).body["status"] == "ACTIVE"
    # An ACTIVE certificate cannot be deleted
    refused = api.delete(one)
    assert refused.status == 409 and refused.body["field"] == "certificate_id"
    assert api.patch(one, {"status": "REVOKED"}).body["status"] == "REVOKED"
    again = api.patch(one, {"status": "ACTIVE"})
    assert again.status == 409 and again.body["field"] == "status"
    bad = api.patch(one, {"status": "PENDING"})
    assert bad.status == 400 and bad.body["field"] == "status"
    assert api.get(one).body["status"] == "REVOKED"


def test_a_deleted_certificate_is_gone_from_the_api_but_still_refused(api: Api) -> None:
    api.create_device("meter-6")
    made = api.post(_certs("meter-6"), {}).body
    one = f"{_certs('meter-6')}/{made['certificate_id']}"
    api.patch(one, {"status": "INACTIVE"})
    assert api.delete(one).status == 200
    assert api.get(one).status == 404
    assert api.get(_certs("meter-6")).body["certificates"] == []
    # The broker's view keeps it (REVOKED) so the local CRL still lists it until it expires
    kept = [m for m in CertificateRepository().for_broker() if m.certificate_id == made["certificate_id"]]
    assert [m.status for m in kept] == ["REVOKED"]


def test_another_tenant_sees_and_changes_nothing(api: Api, other_api: Api) -> None:
    api.create_device("meter-7")
    cid = api.post(_certs("meter-7"), {}).body["certificate_id"]
    other_api.create_device("meter-7")  # the same device id in another tenant
    one = f"{_certs('meter-7')}/{cid}"
    assert other_api.get(one).status == 404
    assert other_api.patch(one, {"status": "REVOKED"}).status == 404
    assert other_api.delete(one).status == 404
    assert other_api.get(_certs("meter-7")).body["certificates"] == []
    assert api.get(one).body["status"] == "ACTIVE"
    assert api.post(_certs("no-such-device"), {}).status == 404
    assert api.get(f"{_certs('meter-7')}/{'0' * 64}").status == 404


def test_deleting_a_device_revokes_its_certificates(api: Api) -> None:
    api.create_device("meter-8")
    cid = api.post(_certs("meter-8"), {}).body["certificate_id"]
    assert api.delete("/customer/devices/meter-8").status == 200
    kept = [m for m in CertificateRepository().for_broker() if m.certificate_id == cid]
    assert [m.status for m in kept] == ["REVOKED"]
    # A device made again under the same id starts with no certificate
    api.create_device("meter-8")
    assert api.get(_certs("meter-8")).body["certificates"] == []


def test_a_device_whose_name_cannot_be_a_subject_is_a_400_naming_device_id_never_a_500(api: Api) -> None:
    # Given a device whose `{tenant}.{device}` is longer than a common name's 64 characters
    device_id = "n" * (64 - len(api.tenant_id))
    api.create_device(device_id)
    # When a certificate is asked for, with a server-made key
    made = api.post(_certs(device_id), {})
    # Then the answer names device_id and nothing was registered
    assert (made.status, made.body.get("field")) == (400, "device_id"), made.body
    assert api.get(_certs(device_id)).body["certificates"] == []
