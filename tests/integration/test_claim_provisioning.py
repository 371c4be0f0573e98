"""Provisioning by claim through the device-message function: AWS's fleet-provisioning requests as the broker's
claim plugin forwards them (`$fleet/claims/...`), answered on the real broker (`$fleet/claim-replies/...`)."""
from __future__ import annotations

import json
from datetime import timedelta

from chalice.test import Client
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.cert_support import csr_pem
from tests.conftest import Stack
from tests.integration.claims_support import GOOD, TEMPLATE, Board, fleet_on, make_claim, observer
from tests.support import Api, Clock, MqttPeer

__all__ = ["observer"]  # the fixture, used by name


def test_a_board_creates_a_certificate_and_provisions_its_device(api: Api, chalice_client: Client,
                                                                 observer: MqttPeer, stack: Stack) -> None:
    # Given a template and a claim certificate of it
    claim = make_claim(api)
    board = Board(chalice_client, observer, claim["certificate_id"])
    # When the board asks for a certificate
    made = board.create()
    # Then it gets a key, a certificate pending activation, and a token
    assert {"certificateId", "certificatePem", "privateKey", "certificateOwnershipToken"} <= set(made)
    cert = x509.load_pem_x509_certificate(made["certificatePem"].encode())
    cn = str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
    assert cn.startswith("cert-")
    # When it provisions with the token and its parameters
    outcome, answer = board.provision(made["certificateOwnershipToken"])
    # Then its device exists, pending mapping (seed 002), with the template's attributes, and its certificate
    assert outcome == "accepted", answer
    assert answer["thingName"] == f"{api.tenant_id}.esp32-aabbccddee01"
    assert answer["deviceConfiguration"]["status"] == "pending_mapping"
    device = api.get("/customer/devices/esp32-aabbccddee01").body
    assert device["status"] == "pending_mapping" and device["attributes"] == {"serial": "AB12CD34"}
    certs = api.get("/customer/devices/esp32-aabbccddee01/certificates").body["certificates"]
    assert [(c["certificate_id"], c["status"]) for c in certs] == [(made["certificateId"], "ACTIVE")]
    # And the broker's certificate ACL grants the certificate's name the device's topics
    stack.sync.sync_once()
    tls_acl = stack.broker.tls_acl_path.read_text()
    assert f"user {cn}\ntopic readwrite tenant/{api.tenant_id}/device/esp32-aabbccddee01/#" in tls_acl
    assert api.get("/customer/provisioning-templates/esp32").body["provisioned_count"] == 1


def test_create_from_csr_signs_the_boards_key_without_answering_a_key(api: Api, chalice_client: Client,
                                                                     observer: MqttPeer) -> None:
    claim = make_claim(api)
    board = Board(chalice_client, observer, claim["certificate_id"])
    key = ec.generate_private_key(ec.SECP256R1())
    # A CSR naming anything (the board cannot know its name) is signed for a name the service decides
    outcome, answer = board.ask("certificates/create-from-csr/json",
                                {"certificateSigningRequest": csr_pem(key, "whatever-the-sample-says")})
    assert outcome == "accepted", answer
    assert "privateKey" not in answer
    assert x509.load_pem_x509_certificate(answer["certificatePem"].encode()).public_key() == key.public_key()
    # A CSR asking for a CA certificate is refused, saying which field
    outcome, answer = board.ask("certificates/create-from-csr/json",
                                {"certificateSigningRequest": csr_pem(key, None, ca=True)})
    assert (outcome, answer["statusCode"], answer["errorCode"]) == ("rejected", 400, "InvalidPayload")
    assert answer["errorMessage"].startswith("certificateSigningRequest: ")


def test_a_token_is_single_use_and_bound_to_itsmake_claim(api: Api, chalice_client: Client, observer: MqttPeer) -> None:
    first, second = make_claim(api), None
    second = api.post("/customer/provisioning-templates/esp32/claim-certificates", {}).body
    board = Board(chalice_client, observer, first["certificate_id"])
    other = Board(chalice_client, observer, second["certificate_id"], "board-2")
    token = board.create()["certificateOwnershipToken"]
    # A token presented through another claim is refused, and nothing is made
    outcome, answer = other.provision(token)
    assert (outcome, answer["errorCode"]) == ("rejected", "InvalidCertificateOwnershipToken")
    assert "another claim" in answer["errorMessage"]
    assert api.get("/customer/devices/esp32-aabbccddee01").status == 404
    # Its own claim provisions once; a replay (even with other parameters) makes nothing
    assert board.provision(token)[0] == "accepted"
    outcome, answer = board.provision(token, {**GOOD, "MacAddress": "AA:BB:CC:DD:EE:02"})
    assert (outcome, answer["errorCode"]) == ("rejected", "InvalidCertificateOwnershipToken")
    assert "used already" in answer["errorMessage"]
    assert api.get("/customer/devices/esp32-aabbccddee02").status == 404
    # An unknown token is refused the same way
    assert board.provision("not-a-token")[1]["errorCode"] == "InvalidCertificateOwnershipToken"


def test_parameters_outside_the_template_are_rejected_with_what_to_fix(api: Api, chalice_client: Client,
                                                                      observer: MqttPeer) -> None:
    claim = make_claim(api)
    board = Board(chalice_client, observer, claim["certificate_id"])
    token = board.create()["certificateOwnershipToken"]
    outcome, answer = board.provision(token, {**GOOD, "SerialNumber": "short"})
    assert outcome == "rejected"
    assert answer == {"statusCode": 400, "errorCode": "InvalidParameters",
                      "errorMessage": "parameter SerialNumber must match [A-Z0-9]{8}"}
    # The token was not spent on a refused request: the board fixes its parameters and goes on
    assert board.provision(token)[0] == "accepted"


def test_malformed_and_oversize_payloads_are_rejected_as_invalid_payload(api: Api, chalice_client: Client,
                                                                        observer: MqttPeer) -> None:
    claim = make_claim(api)
    board = Board(chalice_client, observer, claim["certificate_id"])
    suffix = "provisioning-templates/esp32/provision/json"
    for raw in (b"{not json", b"[1, 2]", json.dumps({"parameters": GOOD}).encode()):
        outcome, answer = board.ask(suffix, raw)
        assert (outcome, answer["statusCode"], answer["errorCode"]) == ("rejected", 400, "InvalidPayload"), raw
    missing = board.ask(suffix, json.dumps({"parameters": GOOD}).encode())[1]
    assert missing["errorMessage"].startswith("certificateOwnershipToken")
    outcome, answer = board.ask("certificates/create/json", b"{" + b" " * 20000 + b"}")
    assert (outcome, answer["statusCode"]) == ("rejected", 413)


def test_a_claim_provisions_only_through_its_own_template(api: Api, other_api: Api, chalice_client: Client,
                                                          observer: MqttPeer) -> None:
    claim = make_claim(api)
    assert api.post("/customer/provisioning-templates", {**TEMPLATE, "template_name": "open"}).status == 201
    assert other_api.post("/customer/provisioning-templates", {**TEMPLATE, "template_name": "theirs"}).status == 201
    board = Board(chalice_client, observer, claim["certificate_id"])
    for name in ("open", "theirs"):
        token = board.create()["certificateOwnershipToken"]
        outcome, answer = board.provision(token, template=name)
        assert (outcome, answer["statusCode"], answer["errorCode"]) == ("rejected", 403, "AccessDenied")
        assert "for template esp32" in answer["errorMessage"]
    assert api.get("/customer/devices").body["devices"] == []
    assert other_api.get("/customer/devices").body["devices"] == []
    assert other_api.get("/customer/provisioning-templates/theirs").body["refused_count"] == 0


def test_a_revoked_claim_or_a_disabled_template_enrols_nothing(api: Api, chalice_client: Client,
                                                               observer: MqttPeer) -> None:
    claim = make_claim(api)
    board = Board(chalice_client, observer, claim["certificate_id"])
    token = board.create()["certificateOwnershipToken"]
    path = f"/customer/provisioning-templates/esp32/claim-certificates/{claim['certificate_id']}"
    assert api.patch(path, {"status": "REVOKED"}).body["status"] == "REVOKED"
    outcome, answer = board.provision(token)
    assert (outcome, answer["statusCode"]) == ("rejected", 403) and "is REVOKED" in answer["errorMessage"]
    assert board.ask("certificates/create/json", {})[0] == "rejected"
    assert api.patch(path, {"status": "ACTIVE"}).status == 409  # REVOKED is final
    # A fresh claim of a disabled template is refused too
    fresh = api.post("/customer/provisioning-templates/esp32/claim-certificates", {}).body
    body = {k: v for k, v in TEMPLATE.items() if k != "template_name"}
    assert api.put("/customer/provisioning-templates/esp32", {**body, "enabled": False}).status == 200
    outcome, answer = Board(chalice_client, observer, fresh["certificate_id"]).ask("certificates/create/json", {})
    assert outcome == "rejected" and "disabled" in answer["errorMessage"]
    assert api.get("/customer/devices").body["devices"] == []


def test_an_expired_token_is_rejected(api: Api, chalice_client: Client, observer: MqttPeer) -> None:
    claim = make_claim(api)
    board = Board(chalice_client, observer, claim["certificate_id"])
    token = board.create()["certificateOwnershipToken"]
    clock = Clock()
    clock.now += timedelta(minutes=6)
    late = fleet_on(clock)
    topic = (f"$fleet/claims/claim-{claim['certificate_id']}/{board.nonce}/{board.client_id}/"
             "provisioning-templates/esp32/provision/json")
    late.handle(topic, json.dumps({"certificateOwnershipToken": token, "parameters": GOOD}).encode())
    outcome_topic, answer, _ = observer.expect(timeout=10)
    assert outcome_topic.endswith("/rejected") and "expired" in answer["errorMessage"]
    assert api.get("/customer/devices/esp32-aabbccddee01").status == 404


def test_re_enrolment_is_refused_unless_the_template_allows_it(api: Api, chalice_client: Client,
                                                               observer: MqttPeer) -> None:
    claim = make_claim(api)
    board = Board(chalice_client, observer, claim["certificate_id"])
    assert board.provision(board.create()["certificateOwnershipToken"])[0] == "accepted"
    outcome, answer = board.provision(board.create()["certificateOwnershipToken"])
    assert (outcome, answer["statusCode"], answer["errorCode"]) == ("rejected", 409, "ResourceConflict")
    assert "re_enrolment" in answer["errorMessage"]
    body = {k: v for k, v in TEMPLATE.items() if k != "template_name"}
    assert api.put("/customer/provisioning-templates/esp32", {**body, "re_enrolment": "new_credential"}).status == 200
    outcome, answer = board.provision(board.create()["certificateOwnershipToken"])
    assert outcome == "accepted" and answer["deviceConfiguration"]["status"] == "re-enrolled"
    assert len(api.get("/customer/devices").body["devices"]) == 1
    certs = api.get("/customer/devices/esp32-aabbccddee01/certificates").body["certificates"]
    assert sorted(c["status"] for c in certs) == ["ACTIVE", "ACTIVE"]


def test_a_template_that_maps_a_site_makes_an_active_device_with_its_welcome(api: Api, chalice_client: Client,
                                                                             observer: MqttPeer) -> None:
    site = api.post("/customer/sites", {"site_id": "plant-1", "name": "Plant 1", "timezone": "UTC",
                                        "wake_schedule_cron": "0 * * * *"})
    assert site.status == 201, site.body
    claim = make_claim(api, {**TEMPLATE, "site_id": "plant-1"})
    board = Board(chalice_client, observer, claim["certificate_id"])
    outcome, answer = board.provision(board.create()["certificateOwnershipToken"])
    assert outcome == "accepted" and answer["deviceConfiguration"]["status"] == "active"
    device = api.get("/customer/devices/esp32-aabbccddee01").body
    assert (device["status"], device["site_id"]) == ("active", "plant-1")
    commands = api.get("/customer/devices/esp32-aabbccddee01/commands").body
    assert [c["command_type"] for c in commands] == ["set_wake_schedule"]


def test_a_claim_makes_a_bounded_number_of_certificates_an_hour(api: Api, chalice_client: Client,
                                                                observer: MqttPeer) -> None:
    # A leaked claim asking `create` in a loop would pile signed PENDING certificates onto the CRL.
    claim = make_claim(api)
    other = make_claim(api, {**TEMPLATE, "template_name": "esp32-other"})
    clock = Clock()
    fleet = fleet_on(clock, creates_per_hour=2)

    def create(claim_id: str) -> tuple[dict[str, object], dict[str, object]]:
        board = Board(chalice_client, observer, claim_id)
        said = fleet.handle(f"$fleet/claims/claim-{claim_id}/{board.nonce}/{board.client_id}/certificates/create/json",
                            b"{}")
        return said, observer.expect(timeout=10)[1]

    assert [create(claim["certificate_id"])[0]["accepted"] for _ in range(2)] == [True, True]
    said, answer = create(claim["certificate_id"])
    assert said == {"accepted": False, "errorCode": "Throttling"}
    assert answer["statusCode"] == 429 and "2 certificates this hour" in str(answer["errorMessage"])
    assert "certificatePem" not in answer
    assert create(other["certificate_id"])[0]["accepted"] is True  # another claim counts its own
    clock.now += timedelta(hours=1)
    assert create(claim["certificate_id"])[0]["accepted"] is True
