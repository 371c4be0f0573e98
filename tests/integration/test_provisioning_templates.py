"""Provisioning templates over the API: CRUD, a dry run that says what to fix, counts of refusals, tenancy."""
from __future__ import annotations

from typing import Any

from tests.support import Api

TEMPLATE: dict[str, Any] = {
    "template_name": "esp32-cam",
    "parameters": {"SerialNumber": {"pattern": "[A-Z0-9]{8}"}, "MacAddress": {"normalize": "mac"}},
    "device_id": "esp32-{MacAddress}",
    "attributes": {"serial": "{SerialNumber}"},
    "allow_list_parameter": "SerialNumber",
    "allow_list": ["AB12CD34", "ZZ99ZZ99"],
}
GOOD = {"SerialNumber": "AB12CD34", "MacAddress": "AA:BB:CC:DD:EE:FF"}


def test_a_template_is_created_read_replaced_and_deleted(api: Api) -> None:
    created = api.post("/customer/provisioning-templates", TEMPLATE)
    assert created.status == 201, created.body
    assert (created.body["enabled"], created.body["refused_count"]) == (True, 0)
    assert api.post("/customer/provisioning-templates", TEMPLATE).status == 409
    listed = api.get("/customer/provisioning-templates").body["templates"]
    assert [t["template_name"] for t in listed] == ["esp32-cam"]
    replaced = api.put("/customer/provisioning-templates/esp32-cam",
                       {k: v for k, v in TEMPLATE.items() if k != "template_name"} | {"enabled": False})
    assert replaced.status == 200 and replaced.body["enabled"] is False
    assert api.get("/customer/provisioning-templates/esp32-cam").body["enabled"] is False
    assert api.delete("/customer/provisioning-templates/esp32-cam").body == {"template_name": "esp32-cam",
                                                                            "deleted": True}
    assert api.get("/customer/provisioning-templates/esp32-cam").status == 404


def test_a_dry_run_shows_the_enrolment_or_what_to_fix_and_counts_refusals(api: Api) -> None:
    assert api.post("/customer/provisioning-templates", TEMPLATE).status == 201
    ok = api.post("/customer/provisioning-templates/esp32-cam/dry-run", {"parameters": GOOD}).body
    assert ok["allowed"] is True
    assert (ok["enrolment"]["device_id"], ok["enrolment"]["attributes"]) == ("esp32-aabbccddeeff",
                                                                             {"serial": "AB12CD34"})
    off_list = api.post("/customer/provisioning-templates/esp32-cam/dry-run",
                        {"parameters": {**GOOD, "SerialNumber": "CD34AB12"}}).body
    assert (off_list["allowed"], off_list["status_code"], off_list["error_code"]) == (False, 403, "AccessDenied")
    bad = api.post("/customer/provisioning-templates/esp32-cam/dry-run",
                   {"parameters": {**GOOD, "SerialNumber": "short"}}).body
    assert bad["error_message"] == "parameter SerialNumber must match [A-Z0-9]{8}"
    # Nothing was made, and the template counts both refusals with the last reason
    assert api.get("/customer/devices/esp32-aabbccddeeff").status == 404
    template = api.get("/customer/provisioning-templates/esp32-cam").body
    assert template["refused_count"] == 2 and template["last_refusal"]["message"] == bad["error_message"]


def test_a_template_that_cannot_work_is_a_400_naming_the_field(api: Api) -> None:
    resp = api.post("/customer/provisioning-templates", {**TEMPLATE, "device_id": "dev-{Colour}"})
    assert resp.status == 400 and "Colour" in resp.body["message"]
    resp = api.post("/customer/provisioning-templates",
                    {**TEMPLATE, "pre_provisioning_hook": {"url": "https://hooks.example.com/x", "timeout_s": 60}})
    assert resp.status == 400 and resp.body["field"] == "pre_provisioning_hook.timeout_s"
    assert api.get("/customer/provisioning-templates").body["templates"] == []


def test_another_tenants_template_is_not_found(api: Api, other_api: Api) -> None:
    assert other_api.post("/customer/provisioning-templates", TEMPLATE).status == 201
    assert api.get("/customer/provisioning-templates/esp32-cam").status == 404
    assert api.post("/customer/provisioning-templates/esp32-cam/dry-run", {"parameters": GOOD}).status == 404
    assert api.delete("/customer/provisioning-templates/esp32-cam").status == 404
    assert other_api.get("/customer/provisioning-templates/esp32-cam").body["refused_count"] == 0
