"""AWS IoT Device SDK v2 boards enrolling by claim, as the SDK's fleet-provisioning samples do.

The samples (fleet_provisioning_basic, fleet_provisioning_csr) connect with the claim
certificate (`mtls_from_path`, client id "test-<uuid>", SDK metrics on), subscribe to the
accepted/rejected topics through `IotIdentityClient`, create a certificate (keys or CSR) and
register the thing with the ownership token. Here they do so on the claim listener of the real
broker, through the real bridge and the device-message function, two boards sharing one claim
at once; then each logs in with its new certificate as its thing.
"""
from __future__ import annotations

import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from awscrt import mqtt
from awsiot import iotidentity, mqtt_connection_builder
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.cert_support import logged_in, tls_peer
from tests.conftest import Stack
from tests.integration.aws_sdk_support import Inbox, aws_bridge  # noqa: F401
from tests.integration.claims_support import TEMPLATE, make_claim
from tests.support import Api

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("aws_bridge")]
QOS = mqtt.QoS.AT_LEAST_ONCE


def _files(folder: Path, cert_pem: str, key_pem: str) -> tuple[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / f"{uuid.uuid4().hex}.crt", folder / f"{uuid.uuid4().hex}.key"
    cert.write_text(cert_pem)
    key.write_text(key_pem)
    return str(cert), str(key)


class SdkBoard:
    """One board running the sample's steps on its own connection and inbox."""

    def __init__(self, stack: Stack, claim: dict[str, Any], folder: Path) -> None:
        tls = stack.broker.tls
        assert tls is not None and tls.claim_port is not None
        cert, key = _files(folder, claim["certificate_pem"], claim["private_key_pem"])
        self.connection = mqtt_connection_builder.mtls_from_path(
            endpoint="localhost", port=tls.claim_port, cert_filepath=cert, pri_key_filepath=key,
            ca_filepath=str(tls.ca_file), client_id=f"test-{uuid.uuid4()}", clean_session=False, keep_alive_secs=30)
        self.connection.connect().result(10)
        self.identity = iotidentity.IotIdentityClient(self.connection)
        self.inbox = Inbox()
        name = TEMPLATE["template_name"]
        subscriptions = [
            self.identity.subscribe_to_create_keys_and_certificate_accepted(
                iotidentity.CreateKeysAndCertificateSubscriptionRequest(), QOS, self.inbox.callback("keys")),
            self.identity.subscribe_to_create_keys_and_certificate_rejected(
                iotidentity.CreateKeysAndCertificateSubscriptionRequest(), QOS, self.inbox.callback("rejected")),
            self.identity.subscribe_to_create_certificate_from_csr_accepted(
                iotidentity.CreateCertificateFromCsrSubscriptionRequest(), QOS, self.inbox.callback("csr")),
            self.identity.subscribe_to_create_certificate_from_csr_rejected(
                iotidentity.CreateCertificateFromCsrSubscriptionRequest(), QOS, self.inbox.callback("rejected")),
            self.identity.subscribe_to_register_thing_accepted(
                iotidentity.RegisterThingSubscriptionRequest(template_name=name), QOS, self.inbox.callback("thing")),
            self.identity.subscribe_to_register_thing_rejected(
                iotidentity.RegisterThingSubscriptionRequest(template_name=name), QOS,
                self.inbox.callback("rejected")),
        ]
        for future, _ in subscriptions:
            future.result(10)

    def create_keys(self) -> iotidentity.CreateKeysAndCertificateResponse:
        self.identity.publish_create_keys_and_certificate(iotidentity.CreateKeysAndCertificateRequest(),
                                                          QOS).result(10)
        made: iotidentity.CreateKeysAndCertificateResponse = self.inbox.next("keys", 20)
        return made

    def create_from_csr(self, csr_pem: str) -> iotidentity.CreateCertificateFromCsrResponse:
        self.identity.publish_create_certificate_from_csr(
            iotidentity.CreateCertificateFromCsrRequest(certificate_signing_request=csr_pem), QOS).result(10)
        made: iotidentity.CreateCertificateFromCsrResponse = self.inbox.next("csr", 20)
        return made

    def register(self, token: str, parameters: dict[str, str]) -> None:
        self.identity.publish_register_thing(iotidentity.RegisterThingRequest(
            template_name=TEMPLATE["template_name"], certificate_ownership_token=token, parameters=parameters),
            QOS).result(10)

    def close(self) -> None:
        self.connection.disconnect().result(10)


def _enrol(board: SdkBoard, mac: str) -> tuple[iotidentity.CreateKeysAndCertificateResponse,
                                             iotidentity.RegisterThingResponse]:
    made = board.create_keys()
    board.register(made.certificate_ownership_token, {"SerialNumber": "AB12CD34", "MacAddress": mac})
    thing: iotidentity.RegisterThingResponse = board.inbox.next("thing", 20)
    return made, thing


def test_two_sdk_boards_sharing_a_claim_enrol_at_once_and_each_gets_only_its_own_answers(
        stack: Stack, api: Api, tmp_path: Path) -> None:
    claim = make_claim(api)
    stack.sync.sync_once()
    boards = [SdkBoard(stack, claim, tmp_path / f"board-{i}") for i in range(2)]
    try:
        with ThreadPoolExecutor(2) as pool:
            futures: list[Future[Any]] = [pool.submit(_enrol, board, f"AA:BB:CC:DD:EE:{10 + i:02X}")
                                          for i, board in enumerate(boards)]
            results = [f.result(60) for f in futures]
        (made_a, thing_a), (made_b, thing_b) = results
        assert made_a.certificate_id != made_b.certificate_id
        assert made_a.private_key != made_b.private_key
        assert {thing_a.thing_name, thing_b.thing_name} == {f"{api.tenant_id}.esp32-aabbccddee0a",
                                                            f"{api.tenant_id}.esp32-aabbccddee0b"}
        # Nothing of the other board's reached either: each inbox held exactly its own answers.
        for board in boards:
            assert board.inbox.empty("keys") and board.inbox.empty("thing") and board.inbox.empty("rejected")
    finally:
        for board in boards:
            board.close()

    # Each board then logs in with its new certificate, as its thing, on the certificate listener.
    stack.sync.sync_once()
    tls = stack.broker.tls
    assert tls is not None
    for made in (made_a, made_b):
        device = tls_peer(stack.broker.host, tls.mtls_port, tls.ca_file, tmp_path, made.certificate_pem,
                          made.private_key)
        try:
            assert logged_in(device)
        finally:
            device.close()
    listed = api.get("/customer/devices/esp32-aabbccddee0a")
    assert listed.status == 200 and listed.body["status"] == "pending_mapping"


def test_the_csr_sample_enrols_and_a_bad_parameter_is_rejected_with_what_to_fix(
        stack: Stack, api: Api, tmp_path: Path) -> None:
    claim = make_claim(api)
    stack.sync.sync_once()
    board = SdkBoard(stack, claim, tmp_path)
    try:
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "board")]))
               .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())
        made = board.create_from_csr(csr)
        signed = x509.load_pem_x509_certificate(made.certificate_pem.encode())
        der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        assert signed.public_key().public_bytes(*der) == key.public_key().public_bytes(*der)

        board.register(made.certificate_ownership_token, {"SerialNumber": "no!", "MacAddress": "AA:BB:CC:DD:EE:20"})
        refused: iotidentity.ErrorResponse = board.inbox.next("rejected", 20)
        assert refused.status_code == 400 and refused.error_code == "InvalidParameters"
        assert "SerialNumber" in (refused.error_message or "")
        # A refusal for its parameters does not spend the token: fixed, the same token enrols.
        board.register(made.certificate_ownership_token,
                       {"SerialNumber": "AB12CD34", "MacAddress": "AA:BB:CC:DD:EE:20"})
        thing: iotidentity.RegisterThingResponse = board.inbox.next("thing", 20)
        assert thing.thing_name == f"{api.tenant_id}.esp32-aabbccddee20"
    finally:
        board.close()
