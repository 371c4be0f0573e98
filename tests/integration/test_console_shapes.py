"""Shapes the console types by hand without a model (composites and service dicts) match real answers."""
from __future__ import annotations

from typing import Any

from tests.console_types import read_api_types
from tests.support import Api

INTERFACES, _ = read_api_types()


def assert_shape(interface: str, body: dict[str, Any]) -> None:
    fields = INTERFACES[interface].fields
    required = {name for name, f in fields.items() if not f.optional}
    assert set(body) <= set(fields), f"{interface} lacks {set(body) - set(fields)}"
    assert required <= set(body), f"the API did not send {required - set(body)} of {interface}"
    for name, value in body.items():
        if value is None:
            assert fields[name].nullable or fields[name].optional, f"{interface}.{name} may be null"


def test_composite_answers_match_the_console_types(api: Api) -> None:
    # Given a device, a group, a site and a job of one tenant
    created = api.post("/customer/devices", {"device_id": "shape-1", "name": "Shape"})
    assert created.status == 201
    assert_shape("CreatedDevice", created.body)
    assert api.post("/customer/groups", {"group_id": "shapes", "name": "Shapes"}).status == 201
    assert api.put("/customer/groups/shapes/members/shape-1").status == 201
    assert api.post("/customer/sites", {"site_id": "s1", "name": "S1", "wake_schedule_cron": "0 6 * * *"}).status == 201
    job = api.post("/customer/jobs", {"document_type": "reboot", "target_group_id": "shapes"})
    assert job.status == 201
    # Then every composite the console reads has the shape it declares
    assert_shape("GroupDetail", api.get("/customer/groups/shapes").body)
    assert_shape("JobDetail", api.get(f"/customer/jobs/{job.body['job_id']}").body)
    assert_shape("TwinView", api.get("/customer/devices/shape-1/twin").body)
    patched = api.patch("/customer/devices/shape-1/twin/desired", {"desired": {"a": 1}, "version": 0})
    assert_shape("TwinView", {k: v for k, v in patched.body.items() if k != "published"})
    assert_shape("MappedDevice", api.put("/customer/devices/shape-1/site", {"site_id": "s1"}).body)


def test_errors_carry_the_message_and_field_the_console_shows(api: Api) -> None:
    api.post("/customer/devices", {"device_id": "shape-2"})
    bad = api.post("/customer/devices/shape-2/commands", {"command_type": "capture_image",
                                                          "command_params": {"count": 99}})
    assert bad.status == 400
    assert_shape("ApiErrorBody", {k: bad.body[k] for k in ("error", "message", "field")})
    assert bad.body["field"] == "command_params.count"  # the send form puts it under the `count` field
    stale = api.patch("/customer/devices/shape-2/twin/desired", {"desired": {"a": 1}, "version": 5})
    assert stale.status == 409 and stale.body["current"] == 0  # the twin panel's explanation names it
