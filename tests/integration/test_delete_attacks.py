"""DELETE of another tenant's resource: 404, and the owner's resource is untouched."""
from __future__ import annotations

import pytest

from tests.support import Api

SITE = {"site_id": "s1", "name": "S", "wake_schedule_cron": "0 6 * * *", "timezone": "UTC"}


@pytest.mark.parametrize("ident", ["dev-1", "dev-1%23x", "%23dev-1", "x" * 300, "dev-1%2Fx"])
def test_deleting_another_tenants_device_site_or_group_is_404_and_changes_nothing(
        api: Api, other_api: Api, ident: str) -> None:
    # Given a device, a site and a group of one tenant, and the same ids nowhere in another
    api.create_device("dev-1")
    assert api.post("/customer/sites", {**SITE, "site_id": "dev-1"}).status == 201
    assert api.post("/customer/groups", {"group_id": "dev-1", "name": "G"}).status == 201
    assert api.put("/customer/groups/dev-1/members/dev-1").status == 201
    for path in ("/customer/devices", "/customer/sites", "/customer/groups"):
        # When the other tenant deletes that id (or one built to split into it)
        resp = other_api.delete(f"{path}/{ident}")
        # Then it is a 404 naming the id, and the owner's item is still there
        assert resp.status == 404, (path, resp.status, resp.body)
        assert api.get(f"{path}/dev-1").status == 200, path
    assert api.get("/customer/groups/dev-1").body["members"] == ["dev-1"]
