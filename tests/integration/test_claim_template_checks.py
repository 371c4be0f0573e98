"""Provisioning by claim, attacked through the template's checks: a serial off the allow-list, and a
pre-provisioning hook that answers garbage or not at all, enrol nothing and leave the token to a board
that fixes what was wrong; a request the database refuses as invalid is answered, never redelivered."""
from __future__ import annotations

import json
from typing import Any

from chalice.test import Client

from chalicelib.certificates.claim_store import ClaimRepository
from chalicelib.certificates.schemas import ClaimCertificate
from chalicelib.certificates.store import CertificateModel
from chalicelib.container import container
from chalicelib.devices.services import DeviceServices
from chalicelib.ingress.router import DeviceMessageRouter
from chalicelib.provisioning.claim_rules import CLAIMS_ROOT
from chalicelib.provisioning.hook import HttpsHook
from chalicelib.provisioning.service import TemplateService
from chalicelib.provisioning.store import TemplateRepository
from tests.hook_support import HookServer, hook_server
from tests.integration.claims_support import GOOD, TEMPLATE, Board, fleet_on, make_claim, observer
from tests.support import Api, Clock, MqttPeer

__all__ = ["hook_server", "observer"]  # the fixtures, used by name
DEVICE = "/customer/devices/esp32-aabbccddee01"


def test_a_serial_not_on_the_allow_list_enrols_nothing(api: Api, chalice_client: Client,
                                                       observer: MqttPeer) -> None:
    claim = make_claim(api, {**TEMPLATE, "allow_list_parameter": "SerialNumber", "allow_list": ["AB12CD34"]})
    board = Board(chalice_client, observer, claim["certificate_id"])
    token = board.create()["certificateOwnershipToken"]
    outcome, answer = board.provision(token, {**GOOD, "SerialNumber": "ZZ99ZZ99"})
    assert (outcome, answer["statusCode"], answer["errorCode"]) == ("rejected", 403, "AccessDenied"), answer
    assert "allow-list" in answer["errorMessage"], answer
    assert api.get(DEVICE).status == 404
    assert board.provision(token)[0] == "accepted"
    assert api.get(DEVICE).status == 200


def _ask(templates: TemplateService, board: Board, observer: MqttPeer, token: str,
         outcome: str = "rejected") -> dict[str, Any]:
    """Provision through the function's service with a hook adapter that may call the loopback hook."""
    topic = (f"$fleet/claims/claim-{board.claim_id}/{board.nonce}/{board.client_id}/"
             "provisioning-templates/esp32/provision/json")
    fleet_on(Clock(), templates).handle(
        topic, json.dumps({"certificateOwnershipToken": token, "parameters": GOOD}).encode())
    got, answer, _ = observer.expect(timeout=10)
    assert got.endswith(f"/{outcome}"), (got, answer)
    return answer


def test_a_hook_that_answers_garbage_or_times_out_enrols_nothing(api: Api, chalice_client: Client,
                                                                 observer: MqttPeer, hook_server: HookServer) -> None:
    claim = make_claim(api, {**TEMPLATE, "pre_provisioning_hook": {"url": hook_server.url, "timeout_s": 0.5}})
    board = Board(chalice_client, observer, claim["certificate_id"])
    token = board.create()["certificateOwnershipToken"]
    templates = TemplateService(TemplateRepository(), HttpsHook(["127.0.0.1"]))
    for body, says in ((b"<html>oops</html>", "not JSON"), ({"allowProvisioning": "yes"}, "allowProvisioning"),
                       ({"allowProvisioning": True, "parameterOverrides": {"SerialNumber": 7}}, "parameterOverrides")):
        hook_server.answer(body)
        answer = _ask(templates, board, observer, token)
        assert (answer["statusCode"], answer["errorCode"]) == (403, "AccessDenied") and says in answer["errorMessage"]
    hook_server.hold = True
    hook_server.answer({"allowProvisioning": True})
    answer = _ask(templates, board, observer, token)
    assert "did not answer within 0.5s" in answer["errorMessage"], answer
    hook_server.release.set()
    assert api.get(DEVICE).status == 404
    assert len(hook_server.seen) == 4 and hook_server.seen[0]["claimCertificateId"] == claim["certificate_id"]
    # The token was not spent by the refusals: once the hook allows, the board enrols.
    hook_server.hold = False
    hook_server.answer({"allowProvisioning": True})
    assert _ask(templates, board, observer, token, "accepted")["thingName"].endswith(".esp32-aabbccddee01")
    assert api.get(DEVICE).status == 200



class _InvalidReads(ClaimRepository):
    """The claims, but the read of a claim is one DynamoDB itself refuses as invalid (an empty key)."""

    def claim(self, certificate_id: str) -> ClaimCertificate | None:
        CertificateModel.get("", certificate_id)
        raise AssertionError("DynamoDB accepted an empty key")


def test_a_claim_request_the_database_refuses_is_answered_and_dropped_not_redelivered(
        api: Api, chalice_client: Client, observer: MqttPeer) -> None:
    # Given the device-message router with the claims handler, whose claim read DynamoDB refuses as invalid
    claim = make_claim(api)
    board = Board(chalice_client, observer, claim["certificate_id"])
    router = DeviceMessageRouter(container().of(DeviceServices).device_service)
    router.register_topic_root(CLAIMS_ROOT, fleet_on(Clock(), claims=_InvalidReads()).handle)
    # When the board asks for a certificate
    outcome = router.handle(f"$fleet/claims/claim-{board.claim_id}/{board.nonce}/{board.client_id}/"
                            "certificates/create/json", b"{}")
    # Then the message is dropped for good (the bridge would otherwise redeliver it for ever), and the board is
    # answered on /rejected, without the database's words
    assert (outcome.accepted, outcome.reason) == (False, "InvalidParameters")
    got, answer, _ = observer.expect(timeout=10)
    assert got.endswith("/certificates/create/json/rejected"), got
    assert answer == {"statusCode": 400, "errorCode": "InvalidParameters",
                      "errorMessage": "the request was refused as invalid"}
