"""Provisioning by claim through the device-message function: AWS's fleet-provisioning requests as the broker's
claim plugin forwards them (`$fleet/claims/...`), answered on the real broker (`$fleet/claim-replies/...`)."""
from __future__ import annotations

import base64
import itertools
import json
import queue
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chalicelib.certificates.claim_store import ClaimRepository
from chalicelib.certificates.services import CertificateServices
from chalicelib.container import container
from chalicelib.devices.services import DeviceServices
from chalicelib.imports.device_store import BulkDeviceWriter
from chalicelib.imports.services import ImportHooks
from chalicelib.provisioning.enrol import Enroller
from chalicelib.provisioning.fleet import FleetProvisioning
from chalicelib.provisioning.services import ProvisioningServices
from tests.cert_support import csr_pem, logged_in, tls_peer
from tests.conftest import Stack
from tests.support import Api, Clock, MqttPeer

TEMPLATE: dict[str, Any] = {
    "template_name": "esp32",
    "parameters": {"SerialNumber": {"pattern": "[A-Z0-9]{8}"}, "MacAddress": {"normalize": "mac"}},
    "device_id": "esp32-{MacAddress}",
    "attributes": {"serial": "{SerialNumber}"},
}
GOOD = {"SerialNumber": "AB12CD34", "MacAddress": "AA:BB:CC:DD:EE:01"}
_nonces = itertools.count(1000)


class Board:
    """One board's connection to the claim listener, as the claim plugin names it in topics."""

    def __init__(self, client: Client, observer: MqttPeer, claim_id: str, client_id: str = "board-1") -> None:
        self.client = client
        self.observer = observer
        self.claim_id = claim_id
        self.nonce = str(next(_nonces))
        self.client_id = client_id
        observer.subscribe(f"$fleet/claim-replies/{self.nonce}/#")

    def ask(self, suffix: str, body: Any) -> tuple[str, dict[str, Any]]:
        """Publish one request through the device-message function; (accepted|rejected, answer)."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        topic = f"$fleet/claims/claim-{self.claim_id}/{self.nonce}/{self.client_id}/{suffix}"
        self.client.lambda_.invoke("device_message", {"topic": topic, "payload_b64": base64.b64encode(raw).decode()})
        got_topic, answer, _ = self.observer.expect(timeout=10)
        prefix = f"$fleet/claim-replies/{self.nonce}/{self.client_id}/{suffix}/"
        assert got_topic.startswith(prefix), got_topic
        return got_topic[len(prefix):], answer

    def create(self) -> dict[str, Any]:
        outcome, answer = self.ask("certificates/create/json", {})
        assert outcome == "accepted", answer
        return answer

    def provision(self, token: str, parameters: dict[str, str] | None = None,
                  template: str = "esp32") -> tuple[str, dict[str, Any]]:
        return self.ask(f"provisioning-templates/{template}/provision/json",
                        {"certificateOwnershipToken": token, "parameters": parameters or GOOD})


@pytest.fixture
def observer(stack: Stack) -> Iterator[MqttPeer]:
    peer = stack.observer()
    yield peer
    peer.close()


def _claim(api: Api, template: dict[str, Any] | None = None) -> dict[str, Any]:
    assert api.post("/customer/provisioning-templates", template or TEMPLATE).status == 201
    made = api.post(f"/customer/provisioning-templates/{(template or TEMPLATE)['template_name']}/claim-certificates",
                    {"expires_in_days": 30})
    assert made.status == 201, made.body
    return made.body


def test_a_board_creates_a_certificate_and_provisions_its_device(api: Api, chalice_client: Client,
                                                                 observer: MqttPeer, stack: Stack) -> None:
    # Given a template and a claim certificate of it
    claim = _claim(api)
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
    claim = _claim(api)
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


def test_a_token_is_single_use_and_bound_to_its_claim(api: Api, chalice_client: Client, observer: MqttPeer) -> None:
    first, second = _claim(api), None
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
    claim = _claim(api)
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
    claim = _claim(api)
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
    claim = _claim(api)
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
    claim = _claim(api)
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
    claim = _claim(api)
    board = Board(chalice_client, observer, claim["certificate_id"])
    token = board.create()["certificateOwnershipToken"]
    clock = Clock()
    clock.now += timedelta(minutes=6)
    late = _fleet(clock)
    topic = (f"$fleet/claims/claim-{claim['certificate_id']}/{board.nonce}/{board.client_id}/"
             "provisioning-templates/esp32/provision/json")
    late.handle(topic, json.dumps({"certificateOwnershipToken": token, "parameters": GOOD}).encode())
    outcome_topic, answer, _ = observer.expect(timeout=10)
    assert outcome_topic.endswith("/rejected") and "expired" in answer["errorMessage"]
    assert api.get("/customer/devices/esp32-aabbccddee01").status == 404


def test_re_enrolment_is_refused_unless_the_template_allows_it(api: Api, chalice_client: Client,
                                                               observer: MqttPeer) -> None:
    claim = _claim(api)
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
    claim = _claim(api, {**TEMPLATE, "site_id": "plant-1"})
    board = Board(chalice_client, observer, claim["certificate_id"])
    outcome, answer = board.provision(board.create()["certificateOwnershipToken"])
    assert outcome == "accepted" and answer["deviceConfiguration"]["status"] == "active"
    device = api.get("/customer/devices/esp32-aabbccddee01").body
    assert (device["status"], device["site_id"]) == ("active", "plant-1")
    commands = api.get("/customer/devices/esp32-aabbccddee01/commands").body
    assert [c["command_type"] for c in commands] == ["set_wake_schedule"]


def _fleet(clock: Clock) -> FleetProvisioning:
    """The service the function runs, on a clock of the test's."""
    c = container()
    epoch = c.of(DeviceServices).device_repository
    services = c.of(ProvisioningServices)
    return FleetProvisioning(ClaimRepository(), c.of(CertificateServices).certificate_authority,
                             services.template_service, Enroller(BulkDeviceWriter(), c.of(ImportHooks)),
                             c.publisher, epoch.credentials_changed, timedelta(days=1), clock=clock)


def test_the_enrolled_board_logs_in_with_its_new_certificate_and_gets_a_command(
        api: Api, chalice_client: Client, observer: MqttPeer, stack: Stack, tmp_path: Path) -> None:
    claim = _claim(api)
    board = Board(chalice_client, observer, claim["certificate_id"])
    made = board.create()
    tls = stack.broker.tls
    assert tls is not None
    # Pending activation: the broker refuses the new certificate
    stack.sync.sync_once()
    pending = tls_peer(stack.broker.host, tls.mtls_port, tls.ca_file, tmp_path, made["certificatePem"],
                       made["privateKey"])
    assert not logged_in(pending)
    pending.close()
    # Provisioned: it logs in, and the operator's command reaches it on its device's topic
    assert board.provision(made["certificateOwnershipToken"])[0] == "accepted"
    stack.sync.sync_once()
    device = tls_peer(stack.broker.host, tls.mtls_port, tls.ca_file, tmp_path, made["certificatePem"],
                      made["privateKey"])
    try:
        assert logged_in(device)
        device.subscribe(f"tenant/{api.tenant_id}/device/esp32-aabbccddee01/commands")
        sent = api.post("/customer/devices/esp32-aabbccddee01/commands", {"command_type": "ping",
                                                                        "command_params": {}})
        assert sent.status == 201, sent.body
        topic, payload, _ = device.expect(timeout=10)
        assert topic.endswith("/commands") and payload["command_id"] == sent.body["command_id"]
        # And it reads nothing of another device (its ACL is its own device's topics)
        device.subscribe(f"tenant/{api.tenant_id}/device/other/commands")
        api.create_device("other")
        assert api.post("/customer/devices/other/commands", {"command_type": "ping",
                                                             "command_params": {}}).status == 201
        with pytest.raises(queue.Empty):
            device.expect(timeout=1.5)
    finally:
        device.close()


def test_racing_boards_never_make_a_second_device_and_a_raced_token_provisions_once(
        api: Api, chalice_client: Client, observer: MqttPeer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    claim = _claim(api)
    board = Board(chalice_client, observer, claim["certificate_id"])
    fleet = _fleet(Clock())
    topic = (f"$fleet/claims/claim-{claim['certificate_id']}/{board.nonce}/{board.client_id}/"
             "provisioning-templates/esp32/provision/json")
    # Two boards with the same serial and MAC, each with its own certificate, provision at once
    tokens = [board.create()["certificateOwnershipToken"] for _ in range(2)]
    # ... and one token is replayed with other parameters at the same moment
    raced = board.create()["certificateOwnershipToken"]
    requests = [{"certificateOwnershipToken": t, "parameters": GOOD} for t in tokens] + [
        {"certificateOwnershipToken": raced, "parameters": {**GOOD, "MacAddress": f"AA:BB:CC:DD:EE:1{n}"}}
        for n in range(4)]
    with ThreadPoolExecutor(len(requests)) as pool:
        outcomes = list(pool.map(lambda body: fleet.handle(topic, json.dumps(body).encode()), requests))
    # One of the same-serial pair made the device, the other was refused as a re-enrolment
    assert sorted(o["accepted"] for o in outcomes[:2]) == [False, True]
    assert [o.get("errorCode") for o in outcomes[:2] if not o["accepted"]] == ["ResourceConflict"]
    # The raced token made exactly one device
    assert sum(o["accepted"] for o in outcomes[2:]) == 1
    devices = api.get("/customer/devices").body["devices"]
    assert len(devices) == 2
    assert sum(len(api.get(f"/customer/devices/{d['device_id']}/certificates").body["certificates"])
               for d in devices) == 2
