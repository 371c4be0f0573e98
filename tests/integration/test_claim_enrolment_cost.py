"""Provisioning by claim, what an enrolment reads: no device read on the way to a new device."""
from __future__ import annotations

from chalice.test import Client

from bench.ddb_counter import DdbRequestCounter
from tests.integration.claims_support import TEMPLATE, Board, make_claim, observer
from tests.support import Api, MqttPeer

__all__ = ["observer"]  # the fixture, used by name


def test_a_new_board_is_enrolled_without_reading_its_device_first(api: Api, chalice_client: Client,
                                                                  observer: MqttPeer) -> None:
    # Given a board holding its new certificate's token
    claim = make_claim(api)
    board = Board(chalice_client, observer, claim["certificate_id"])
    token = board.create()["certificateOwnershipToken"]
    counter = DdbRequestCounter()
    # When it provisions its device
    with counter.measure() as counts:
        outcome, answer = board.provision(token)
    # Then the device is made by the conditional transaction alone: no read of the device before it
    assert outcome == "accepted", answer
    assert api.get("/customer/devices/esp32-aabbccddee01").body["status"] == "pending_mapping"
    assert "BatchGetItem" not in counts, dict(counts)


def test_an_enrolled_board_is_found_again_when_its_templates_group_has_gone(api: Api, chalice_client: Client,
                                                                          observer: MqttPeer) -> None:
    # Given a board enrolled through a template that puts it in a group, and the group deleted since
    assert api.post("/customer/groups", {"group_id": "line-1", "name": "Line 1"}).status == 201
    claim = make_claim(api, {**TEMPLATE, "groups": ["line-1"]})
    board = Board(chalice_client, observer, claim["certificate_id"])
    assert board.provision(board.create()["certificateOwnershipToken"])[0] == "accepted"
    assert api.delete("/customer/groups/line-1").status in (200, 204)
    # When it enrols again: refused as enrolled (what to fix: re_enrolment), not for the missing group
    outcome, answer = board.provision(board.create()["certificateOwnershipToken"])
    assert (outcome, answer["errorCode"]) == ("rejected", "ResourceConflict"), answer
    assert "re_enrolment" in answer["errorMessage"]
    # And once the template allows it, it gets a new certificate for the same device
    body = {k: v for k, v in TEMPLATE.items() if k != "template_name"}
    assert api.put("/customer/provisioning-templates/esp32", {**body, "groups": ["line-1"],
                                                              "re_enrolment": "new_credential"}).status == 200
    outcome, answer = board.provision(board.create()["certificateOwnershipToken"])
    assert outcome == "accepted" and answer["deviceConfiguration"]["status"] == "re-enrolled", answer
    assert len(api.get("/customer/devices").body["devices"]) == 1
    # And a new serial through the same template is refused, naming the group
    outcome, answer = board.provision(board.create()["certificateOwnershipToken"],
                                      {"SerialNumber": "ZZ12CD34", "MacAddress": "AA:BB:CC:DD:EE:02"})
    assert (outcome, answer["errorCode"]) == ("rejected", "ResourceNotFound") and "line-1" in answer["errorMessage"]
