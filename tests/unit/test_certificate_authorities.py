"""The certificate authority port's two adapters: the local CA on disk, and AWS IoT (moto's IoT)."""
from __future__ import annotations

import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from moto import mock_aws

from chalicelib.certificates import local_ca, rules
from chalicelib.certificates import x509 as certs
from chalicelib.certificates.aws_iot import AwsIotCertificateAuthority
from chalicelib.certificates.schemas import CertificateStatus
from chalicelib.core.config import MisconfiguredStage
from chalicelib.core.errors import InvalidInput
from tests.cert_support import csr_pem, load

THING = "acme.meter-1"


def test_the_local_ca_is_made_once_with_an_owner_only_key(tmp_path: Path) -> None:
    ca_dir = tmp_path / "ca"
    cert_path = local_ca.ensure(ca_dir)
    key_mode = stat.S_IMODE((ca_dir / local_ca.CA_KEY).stat().st_mode)
    assert key_mode == 0o600
    first = cert_path.read_bytes()
    # A second start keeps the same CA (devices' certificates stay valid across restarts)
    local_ca.ensure(ca_dir)
    assert cert_path.read_bytes() == first
    ca = load(first.decode())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_the_local_ca_signs_the_thing_name_whatever_the_key(tmp_path: Path) -> None:
    local_ca.ensure(tmp_path)
    ca = local_ca.LocalCertificateAuthority(tmp_path)
    made = ca.create_keys_and_certificate(THING, timedelta(days=30))
    assert made.private_key_pem and made.facts.subject == f"CN={THING}"
    issuer = load((tmp_path / local_ca.CA_CERT).read_text())
    cert = load(made.facts.certificate_pem)
    cert.verify_directly_issued_by(issuer)
    key = ec.generate_private_key(ec.SECP256R1())
    signed = ca.sign_public_key(THING, certs.checked_csr_key(csr_pem(key, None), THING), "", timedelta(days=1))
    assert load(signed.facts.certificate_pem).public_key() == key.public_key()
    # The broker's server certificate: the SANs the local stack's clients use
    server, server_key = ca.server_certificate(tmp_path, ["localhost", "127.0.0.1"])
    sans = load(server.read_text()).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(a) for a in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert stat.S_IMODE(server_key.stat().st_mode) == 0o600


def test_the_local_crl_lists_the_serials_it_is_given(tmp_path: Path) -> None:
    local_ca.ensure(tmp_path)
    ca = local_ca.LocalCertificateAuthority(tmp_path)
    made = ca.create_keys_and_certificate(THING, timedelta(days=30))
    serial = int(made.facts.serial_number, 16)
    ca.write_crl(tmp_path / "crl.pem", [(serial, made.facts.not_before)])
    crl = x509.load_pem_x509_crl((tmp_path / "crl.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    assert crl.is_signature_valid(load((tmp_path / local_ca.CA_CERT).read_text()).public_key())  # type: ignore[arg-type]


def test_revoked_is_final_in_the_transition_table() -> None:
    assert rules.TRANSITIONS[CertificateStatus.REVOKED] == frozenset()
    assert not rules.may_delete(CertificateStatus.ACTIVE)
    assert rules.may_change(CertificateStatus.INACTIVE, CertificateStatus.ACTIVE)


def test_a_csr_whose_signature_does_not_verify_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    der = bytearray(x509.load_pem_x509_csr(csr_pem(key, THING).encode()).public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0x01  # inside the signature: the request still parses, its signature no longer verifies
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM).decode()
    with pytest.raises(InvalidInput) as refused:
        certs.checked_csr_key(tampered, THING)
    assert refused.value.field == "csr"


@pytest.fixture
def iot() -> Iterator[object]:
    with mock_aws():
        client = boto3.client("iot", region_name="us-east-1")
        client.create_policy(policyName="fleet-devices", policyDocument='{"Version":"2012-10-17","Statement":[]}')
        yield client


def test_aws_iot_makes_keys_binds_the_thing_and_attaches_the_policy(iot: object) -> None:
    client: object = iot
    ca = AwsIotCertificateAuthority("us-east-1", "fleet-devices", client=client)
    made = ca.create_keys_and_certificate(THING, timedelta(days=365))
    assert made.private_key_pem and "PRIVATE KEY" in made.private_key_pem
    principals = client.list_thing_principals(thingName=THING)["principals"]  # type: ignore[attr-defined]
    assert len(principals) == 1 and made.facts.certificate_id in principals[0]
    targets = client.list_targets_for_policy(policyName="fleet-devices")["targets"]  # type: ignore[attr-defined]
    assert targets == principals
    # UpdateCertificate follows the registry's status
    ca.set_status(THING, made.facts.certificate_id, CertificateStatus.INACTIVE)
    described = client.describe_certificate(certificateId=made.facts.certificate_id)  # type: ignore[attr-defined]
    assert described["certificateDescription"]["status"] == "INACTIVE"
    # And a certificate that no longer logs in is detached and deleted
    ca.delete(THING, made.facts.certificate_id)
    assert client.list_thing_principals(thingName=THING)["principals"] == []  # type: ignore[attr-defined]
    assert client.list_certificates()["certificates"] == []  # type: ignore[attr-defined]


def test_aws_iot_signs_a_checked_csr(iot: object) -> None:
    ca = AwsIotCertificateAuthority("us-east-1", client=iot)
    key = ec.generate_private_key(ec.SECP256R1())
    csr = csr_pem(key, THING)
    signed = ca.sign_public_key(THING, certs.checked_csr_key(csr, THING), csr, timedelta(days=365))
    assert signed.private_key_pem is None
    # (moto signs a key of its own; AWS IoT signs the CSR's, as the local CA test shows for ours)
    described = iot.describe_certificate(certificateId=signed.facts.certificate_id)  # type: ignore[attr-defined]
    assert described["certificateDescription"]["status"] == "ACTIVE"
    principals = iot.list_thing_principals(thingName=THING)["principals"]  # type: ignore[attr-defined]
    assert len(principals) == 1


def test_a_stage_without_its_local_ca_is_misconfigured_not_a_callers_error(tmp_path: Path) -> None:
    ca = local_ca.LocalCertificateAuthority(tmp_path / "nothing-here")
    with pytest.raises(MisconfiguredStage) as refused:
        ca.create_keys_and_certificate(THING, timedelta(days=1))
    assert "FLEET_CERTIFICATE_CA_DIR" in str(refused.value)


def test_aws_iot_gets_the_checked_csr_alone_never_what_trails_it(iot: object) -> None:
    # Given a CSR that passes the checks, followed by a second request for another name
    key = ec.generate_private_key(ec.SECP256R1())
    csr = csr_pem(key, THING)
    smuggled = csr_pem(ec.generate_private_key(ec.SECP256R1()), "other-tenant.victim")
    text = f"{csr}\n{smuggled}"
    checked = certs.checked_csr_key(text, THING)
    sent: list[str] = []
    iot.meta.events.register(  # type: ignore[attr-defined]
        "provide-client-params.iot.CreateCertificateFromCsr",
        lambda params, **_: sent.append(params["certificateSigningRequest"]))
    AwsIotCertificateAuthority("us-east-1", client=iot).sign_public_key(THING, checked, text, timedelta(days=365))
    # Then AWS IoT was sent one PEM block: the checked request, re-serialised
    assert len(sent) == 1 and sent[0].count("BEGIN CERTIFICATE REQUEST") == 1
    assert x509.load_pem_x509_csr(sent[0].encode()).subject.rfc4514_string() == f"CN={THING}"
    assert "victim" not in sent[0] and smuggled.strip() not in sent[0]
