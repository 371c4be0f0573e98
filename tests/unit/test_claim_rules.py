"""Provisioning by claim, the pure rules: the claim topics, ownership tokens, payloads, the claim listener's ACL."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.broker_auth.service_grants import service_grants, within
from chalicelib.certificates.schemas import CertificateStatus, ClaimCertificate
from chalicelib.core.identity import device_topic_filters
from chalicelib.provisioning import claim_rules as rules
from chalicelib.provisioning.errors import ProvisioningRefused
from infra.local.broker_tls import claim_acl_lines

CLAIM_ID = "ab" * 24
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def claim(status: CertificateStatus = CertificateStatus.ACTIVE, days: int = 30) -> ClaimCertificate:
    return ClaimCertificate(certificate_id=CLAIM_ID, tenant_id="t1", template_name="esp32", status=status,
                            subject=f"CN=claim-{CLAIM_ID}", serial_number="1", not_before=NOW - timedelta(days=1),
                            not_after=NOW + timedelta(days=days), created_at=NOW, certificate_pem="")


def test_a_claim_topic_names_its_claim_connection_and_request() -> None:
    parsed = rules.parse_claim_topic(f"$fleet/claims/claim-{CLAIM_ID}/42/board:1/provisioning-templates/esp32/"
                                     "provision/json")
    assert parsed is not None
    assert (parsed.claim_id, parsed.nonce, parsed.client_id, parsed.template_name) == (CLAIM_ID, "42", "board:1",
                                                                                       "esp32")
    assert parsed.reply(True) == "$fleet/claim-replies/42/board:1/provisioning-templates/esp32/provision/json/accepted"
    create = rules.parse_claim_topic(f"$fleet/claims/claim-{CLAIM_ID}/7/b/certificates/create/json")
    assert create is not None and create.reply(False).endswith("/certificates/create/json/rejected")


@pytest.mark.parametrize("topic", [
    f"$fleet/claims/{CLAIM_ID}/1/b/certificates/create/json",  # not a claim CN
    f"$fleet/claims/claim-{CLAIM_ID}x/1/b/certificates/create/json",
    f"$fleet/claims/claim-{CLAIM_ID}/one/b/certificates/create/json",  # nonce not a number
    f"$fleet/claims/claim-{CLAIM_ID}/1/svc-cloud/certificates/create/json",  # a service's client id
    f"$fleet/claims/claim-{CLAIM_ID}/1/b/things/x/shadow/update",  # not a provisioning request
    f"$fleet/claims/claim-{CLAIM_ID}/1/b/provisioning-templates/a/b/provision/json",
    f"$fleet/claims/claim-{CLAIM_ID}/1/b/certificates/create/json/extra",
    "$fleet/claims/claim-/1/b/certificates/create/json",
    "tenant/t/device/d/status",
])
def test_anything_else_under_the_claims_root_is_not_a_request(topic: str) -> None:
    assert rules.parse_claim_topic(topic) is None


def test_tokens_are_random_and_only_their_hash_is_kept() -> None:
    a, b = rules.new_token(), rules.new_token()
    assert a != b and len(a) >= 43
    assert rules.token_hash(a) != a and len(rules.token_hash(a)) == 64


def test_a_token_of_another_claim_a_used_one_and_an_expired_one_are_refused() -> None:
    later = NOW + rules.TOKEN_TTL
    rules.check_token(CLAIM_ID, later, False, CLAIM_ID, NOW)  # its own claim, unused, in time
    cases = {"unknown or was used": (None, None, False), "another claim": ("cd" * 24, later, False),
             "used already": (CLAIM_ID, later, True), "expired": (CLAIM_ID, NOW, False)}
    for said, (owner, expires, consumed) in cases.items():
        with pytest.raises(ProvisioningRefused) as refused:
            rules.check_token(owner, expires, consumed, CLAIM_ID, NOW)
        assert refused.value.error_code == "InvalidCertificateOwnershipToken"
        assert said in refused.value.message


def test_a_revoked_inactive_expired_or_missing_claim_may_not_enrol() -> None:
    assert rules.check_claim(claim(), CLAIM_ID, NOW).certificate_id == CLAIM_ID
    for found, said in ((claim(CertificateStatus.REVOKED), "is REVOKED"), (claim(CertificateStatus.INACTIVE),
                        "is INACTIVE"), (claim(days=-1), "expired"), (None, "not registered")):
        with pytest.raises(ProvisioningRefused) as refused:
            rules.check_claim(found, CLAIM_ID, NOW)
        assert (refused.value.status_code, refused.value.error_code) == (403, "AccessDenied")
        assert said in refused.value.message


def test_a_claim_provisions_through_its_own_template_only() -> None:
    rules.check_template_name(claim(), "esp32")
    with pytest.raises(ProvisioningRefused) as refused:
        rules.check_template_name(claim(), "other")
    assert "for template esp32, not other" in refused.value.message


@pytest.mark.parametrize(("raw", "said"), [
    (b"{nope", "not JSON"), (b"[]", "JSON object"), (b'"x"', "JSON object"),
    (json.dumps({"parameters": {}}).encode(), "certificateOwnershipToken"),
    (json.dumps({"certificateOwnershipToken": 5}).encode(), "certificateOwnershipToken"),
    (json.dumps({"certificateOwnershipToken": "t", "parameters": {"a": 1}}).encode(), "parameters.a"),
    (json.dumps({"certificateOwnershipToken": "t", "parameters": {f"p{i}": "v" for i in range(21)}}).encode(),
     "parameters"),
])
def test_a_malformed_provision_request_is_invalid_payload_naming_the_field(raw: bytes, said: str) -> None:
    with pytest.raises(ProvisioningRefused) as refused:
        rules.payload(raw, rules.ProvisionRequest)
    assert (refused.value.status_code, refused.value.error_code) == (400, "InvalidPayload")
    assert said in refused.value.message


def test_an_oversize_payload_is_413_and_an_empty_create_is_fine() -> None:
    with pytest.raises(ProvisioningRefused) as refused:
        rules.payload(b"{" + b" " * rules.MAX_REQUEST_BYTES + b"}", None)
    assert refused.value.status_code == 413
    assert rules.payload(b"", None) is None
    body = rules.payload(b'{"certificateOwnershipToken": "t", "parameters": {"A": "b"}, "extra": 1}',
                         rules.ProvisionRequest)
    assert isinstance(body, rules.ProvisionRequest) and body.parameters == {"A": "b"}


def test_a_rejection_is_aws_document() -> None:
    refused = ProvisioningRefused("parameter X must match Y", status_code=400, error_code="InvalidParameters")
    assert rules.rejection(refused) == {"statusCode": 400, "errorCode": "InvalidParameters",
                                        "errorMessage": "parameter X must match Y"}


def test_the_claim_acl_grants_the_provisioning_topics_of_its_own_template_only() -> None:
    lines = claim_acl_lines(f"claim-{CLAIM_ID}", "esp32")
    assert lines == [
        f"user claim-{CLAIM_ID}",
        "topic write $aws/certificates/create/json",
        "topic write $aws/certificates/create-from-csr/json",
        "topic write $aws/provisioning-templates/esp32/provision/json",
        "topic read $aws/certificates/create/json/+",
        "topic read $aws/certificates/create-from-csr/json/+",
        "topic read $aws/provisioning-templates/esp32/provision/json/+",
        "",
    ]
    assert not any("$fleet" in line or "#" in line for line in lines)


def test_no_one_but_the_bridge_reads_claim_requests_and_only_the_cloud_writes_answers() -> None:
    # Devices' own filters never reach $fleet/ (a '#' subscription does not match '$' topics either).
    assert not any(f.startswith("$fleet") for f in device_topic_filters("t", "d"))
    grants = service_grants()
    writes_requests = [u for u, g in grants.items()
                       if any(a == "write" and within("$fleet/claims/claim-x/1/b/certificates/create/json", f)
                              for a, f in g)]
    reads_requests = [u for u, g in grants.items() if any(a == "read" and within("$fleet/claims/#", f) for a, f in g)]
    writes_answers = [u for u, g in grants.items() if any(a == "write" and within("$fleet/claim-replies/1/b/x", f)
                                                          for a, f in g)]
    # The observer (tests' and benchmarks' identity, which may already write every device's topics)
    # plays the cloud in the broker's own tests.
    assert (writes_requests, reads_requests, writes_answers) == ([], ["svc-bridge", "svc-observer"],
                                                                 ["svc-cloud", "svc-observer"])
