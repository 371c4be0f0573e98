"""What the claim-provisioning tests share: a template, a board's connection as the claim plugin names it,
the function's service on a clock of the test's."""
from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.certificates.claim_store import ClaimRepository
from chalicelib.certificates.services import CertificateServices
from chalicelib.container import container
from chalicelib.devices.services import DeviceServices
from chalicelib.imports.device_store import BulkDeviceWriter
from chalicelib.imports.services import ImportHooks
from chalicelib.provisioning.enrol import Enroller
from chalicelib.provisioning.fleet import FleetProvisioning
from chalicelib.provisioning.service import TemplateService
from chalicelib.provisioning.services import ProvisioningServices
from infra.local.claim_enrolment import ClaimBoard
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


def make_claim(api: Api, template: dict[str, Any] | None = None) -> dict[str, Any]:
    assert api.post("/customer/provisioning-templates", template or TEMPLATE).status == 201
    made = api.post(f"/customer/provisioning-templates/{(template or TEMPLATE)['template_name']}/claim-certificates",
                    {"expires_in_days": 30})
    assert made.status == 201, made.body
    return made.body


def flashed(stack: Stack, api: Api, folder: Path, parameters: dict[str, str]) -> ClaimBoard:
    """What the factory flashes into a board: the claim certificate and key, the CA, the template's name."""
    claim = make_claim(api)
    stack.sync.sync_once()
    folder.mkdir()
    (folder / "claim.pem").write_text(claim["certificate_pem"])
    (folder / "claim.key").write_text(claim["private_key_pem"])
    tls = stack.broker.tls
    assert tls is not None
    return ClaimBoard(str(tls.ca_file), str(folder / "claim.pem"), str(folder / "claim.key"), "esp32", parameters)


def fleet_on(clock: Clock, templates: TemplateService | None = None, creates_per_hour: int = 1000,
             claims: ClaimRepository | None = None) -> FleetProvisioning:
    """The service the function runs, on a clock of the test's (and the template service and claims given)."""
    c = container()
    epoch = c.of(DeviceServices).device_repository
    services = c.of(ProvisioningServices)
    return FleetProvisioning(claims or ClaimRepository(), c.of(CertificateServices).certificate_authority,
                             templates or services.template_service, Enroller(BulkDeviceWriter(), c.of(ImportHooks)),
                             c.publisher, epoch.credentials_changed, timedelta(days=1), clock=clock,
                             creates_per_hour=creates_per_hour)
