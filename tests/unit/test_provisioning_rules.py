"""The enrolment rules: parameters checked against their patterns, MACs normalised, the allow-list, rendering."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.provisioning import rules
from chalicelib.provisioning.errors import ProvisioningRefused
from chalicelib.provisioning.schemas import CreateTemplate, Template


def template(**fields: Any) -> Template:
    body = {"template_name": "esp32", "device_id": "esp32-{MacAddress}",
            "parameters": {"SerialNumber": {"pattern": "[A-Z0-9]{8}"}, "MacAddress": {"normalize": "mac"},
                           "Model": {"required": False}},
            "attributes": {"serial": "{SerialNumber}", "model": "{Model}"}, "groups": ["floor-1"], **fields}
    created = CreateTemplate.model_validate(body)
    now = datetime.now(UTC)
    return Template(tenant_id="t", created_at=now, updated_at=now, **created.model_dump())


def test_a_mac_is_normalised_and_renders_the_device_id() -> None:
    t = template()
    values = rules.checked_parameters(t, {"SerialNumber": "AB12CD34", "MacAddress": "AA:BB:CC:DD:EE:0F"})
    made = rules.enrolment(t, values)
    assert (made.device_id, made.attributes, made.groups) == ("esp32-aabbccddee0f", {"serial": "AB12CD34",
                                                                                      "model": ""}, ["floor-1"])
    for spelling in ("aa-bb-cc-dd-ee-0f", "aabb.ccdd.ee0f", "AABBCCDDEE0F"):
        assert rules.checked_parameters(t, {"SerialNumber": "AB12CD34", "MacAddress": spelling})[
            "MacAddress"] == "aabbccddee0f"


@pytest.mark.parametrize(("given", "field", "says"), [
    ({"SerialNumber": "ab12", "MacAddress": "aabbccddeeff"}, "parameters.SerialNumber", "must match [A-Z0-9]{8}"),
    ({"SerialNumber": "AB12CD34"}, "parameters.MacAddress", "is required"),
    ({"SerialNumber": "AB12CD34", "MacAddress": "not-a-mac"}, "parameters.MacAddress", "MAC address"),
    ({"SerialNumber": "AB12CD34", "MacAddress": "aabbccddeeff", "Colour": "red"}, "parameters.Colour",
     "not one of template esp32's parameters"),
    ({"SerialNumber": 12345678, "MacAddress": "aabbccddeeff"}, "parameters.SerialNumber", "string"),
    ({"SerialNumber": "AB12CD34\n", "MacAddress": "aabbccddeeff"}, "parameters.SerialNumber", "printable"),
])
def test_parameters_outside_the_template_are_refused_naming_the_parameter(given: dict[str, Any], field: str,
                                                                          says: str) -> None:
    with pytest.raises(ProvisioningRefused) as refused:
        rules.checked_parameters(template(), given)
    assert refused.value.field == field and says in refused.value.message
    assert (refused.value.status_code, refused.value.error_code) == (400, "InvalidParameters")


def test_a_serial_not_on_the_allow_list_is_refused_403() -> None:
    t = template(allow_list_parameter="MacAddress", allow_list=["AA:BB:CC:DD:EE:FF"])
    allowed = rules.checked_parameters(t, {"SerialNumber": "AB12CD34", "MacAddress": "aa-bb-cc-dd-ee-ff"})
    rules.check_allow_list(t, allowed)  # the list's spelling is normalised too
    other = rules.checked_parameters(t, {"SerialNumber": "AB12CD34", "MacAddress": "aa-bb-cc-dd-ee-00"})
    with pytest.raises(ProvisioningRefused) as refused:
        rules.check_allow_list(t, other)
    assert (refused.value.status_code, refused.value.error_code) == (403, "AccessDenied")
    assert "allow-list" in refused.value.message


def test_a_device_id_that_renders_to_no_id_is_refused() -> None:
    t = template(device_id="{SerialNumber}", parameters={"SerialNumber": {"pattern": ".+"}}, attributes={})
    with pytest.raises(ProvisioningRefused) as refused:
        rules.enrolment(t, rules.checked_parameters(t, {"SerialNumber": "a/b"}))
    assert refused.value.field == "device_id"


@pytest.mark.parametrize(("fields", "says"), [
    ({"device_id": "dev-{Unknown}"}, "{Unknown}, which is not one of the parameters"),
    ({"allow_list": ["x"], "allow_list_parameter": None}, "needs allow_list_parameter"),
    ({"parameters": {"S": {"pattern": "("}}, "device_id": "d"}, "not a regular expression"),
    ({"pre_provisioning_hook": {"url": "ftp://example.com/x"}}, "pre_provisioning_hook.url"),
])
def test_a_template_that_cannot_work_is_refused_when_written(fields: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError) as invalid:
        template(**fields)
    assert says in str(invalid.value)
