"""The demo tenant's provisioning template: what an ESP32 board enrolling itself would make."""
from __future__ import annotations

import contextlib
from typing import Any

from chalicelib.container import container
from chalicelib.core.errors import Conflict
from chalicelib.provisioning.schemas import CreateTemplate
from chalicelib.provisioning.services import ProvisioningServices

DEMO_TEMPLATE = "esp32-demo"


def seed_demo_template(tenant_id: str, group_id: str) -> dict[str, Any]:
    """Create the template once (a kept database has it already); returns the stack.json key naming it."""
    template = CreateTemplate.model_validate({
        "template_name": DEMO_TEMPLATE,
        "description": "ESP32 boards: the id from the MAC address, the serial as an attribute",
        "parameters": {"SerialNumber": {"pattern": "[A-Z0-9]{6,16}"}, "MacAddress": {"normalize": "mac"}},
        "device_id": "esp32-{MacAddress}",
        "name": "ESP32 {SerialNumber}",
        "attributes": {"serial": "{SerialNumber}"},
        "groups": [group_id],
    })
    with contextlib.suppress(Conflict):
        container().of(ProvisioningServices).template_service.create(tenant_id, template)
    return {"provisioning_template": DEMO_TEMPLATE}
