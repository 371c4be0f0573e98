"""The demo tenant's site: every simulated device is mapped to it except those marked unmapped."""
from __future__ import annotations

import contextlib
from typing import Any

from chalicelib.container import container
from chalicelib.core.errors import Conflict
from chalicelib.sites.schemas import CreateSite

DEMO_SITE = "demo-site"


def seed_demo_site(tenant_id: str, seeded: list[dict[str, Any]]) -> dict[str, Any]:
    """Create the demo site and map the seeded devices (each gets its welcome command).

    `seeded` items are `{"device_id", "options"}`; `options["unmapped"]` keeps a device
    pending_mapping so the walk-through can map it and watch the welcome arrive.
    Returns the extra keys for stack.json.
    """
    with contextlib.suppress(Conflict):
        container().site_service.create(tenant_id, CreateSite(
            site_id=DEMO_SITE, name="Demo greenhouse", wake_schedule_cron="0 */6 * * *",
            timezone="Europe/Berlin", program="demo", company="Example Growers",
        ))
    mapped = []
    for device in seeded:
        if device.get("options", {}).get("unmapped"):
            continue
        container().mapping_service.map(tenant_id, device["device_id"], DEMO_SITE, "local-stack-demo")
        mapped.append(device["device_id"])
    unmapped = [d["device_id"] for d in seeded if d["device_id"] not in mapped]
    return {"site_id": DEMO_SITE, "unmapped_devices": unmapped}
