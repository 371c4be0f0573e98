"""One error shape for every non-2xx, the served contract, device PATCH and group DELETE."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
import requests
from openapi_spec_validator import validate

from chalicelib.container import container
from chalicelib.core.auth.operator import issue_local_token
from tests.support import Api


def _is_error(resp: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error"] == code and isinstance(body["message"], str), body
    assert set(body) <= {"error", "message", "field", "limit", "request_id", "execution"}, body
    return body


def test_unknown_path_is_404_and_never_echoes_the_token(api_url: str) -> None:
    token = issue_local_token(container().settings, "t-echo")
    resp = requests.get(f"{api_url}/customer/nope", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    _is_error(resp, 404, "not_found")
    assert token not in resp.text and token[:20] not in resp.text
    _is_error(requests.get(f"{api_url}/nowhere", timeout=5), 404, "not_found")


def test_wrong_method_and_media_type_have_the_shape(api_url: str, api: Api) -> None:
    auth = {"Authorization": f"Bearer {api.token}"}
    _is_error(requests.put(f"{api_url}/customer/devices", headers=auth, timeout=5), 405, "method_not_allowed")
    resp = requests.post(f"{api_url}/customer/devices", data="x", timeout=5,
                         headers={**auth, "Content-Type": "text/plain"})
    _is_error(resp, 415, "unsupported_media_type")


def test_401_says_why_and_logs_it(api_url: str, caplog: pytest.LogCaptureFixture) -> None:
    _is_error(requests.get(f"{api_url}/customer/devices", timeout=5), 401, "unauthenticated")
    expired = issue_local_token(container().settings, "t-exp", ttl=timedelta(seconds=-60))
    with caplog.at_level(logging.WARNING):
        resp = requests.get(f"{api_url}/customer/devices", headers={"Authorization": f"Bearer {expired}"}, timeout=5)
    body = _is_error(resp, 401, "unauthenticated")
    assert "expired" in str(body["message"]) and expired not in resp.text
    # The structured line's reason (a key of the JSON line, an attribute of the record)
    assert any(getattr(r, "reason", "") == "expired" and "expired" in str(getattr(r, "detail", ""))
               for r in caplog.records)
    bad = requests.get(f"{api_url}/customer/devices", headers={"Authorization": "Bearer abc.def.ghi"}, timeout=5)
    assert "abc.def.ghi" not in _is_error(bad, 401, "unauthenticated")["message"]
    device = requests.get(f"{api_url}/device/v1/shadow", headers={"X-Provision-Token": "tok_nope"}, timeout=5)
    _is_error(device, 401, "unauthenticated")


def test_openapi_is_served_and_docs_load_without_a_cdn(api_url: str) -> None:
    doc = requests.get(f"{api_url}/openapi.json", timeout=5).json()
    validate(doc)
    assert doc["openapi"].startswith("3.1") and "/customer/devices/{device_id}" in doc["paths"]
    page = requests.get(f"{api_url}/docs", timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "http" not in page.text.split("<body>")[1]
    js = requests.get(f"{api_url}/docs/swagger-ui-bundle.js", timeout=10)
    assert js.status_code == 200 and "SwaggerUIBundle" in js.text
    _is_error(requests.get(f"{api_url}/docs/..%2F..%2Fapp.py", timeout=5), 404, "not_found")


def test_patch_device_renames_and_replaces_attributes(api: Api, other_api: Api) -> None:
    device_id, _ = api.create_device(name="Cam", attributes={"floor": 1, "room": "a"})
    resp = api.patch(f"/customer/devices/{device_id}", {"name": "Gate cam", "attributes": {"zone": "north"}})
    assert resp.status == 200, resp.body
    assert resp.body["name"] == "Gate cam" and resp.body["attributes"] == {"zone": "north"}
    assert api.patch(f"/customer/devices/{device_id}", {"name": None}).body["name"] is None
    got = api.get(f"/customer/devices/{device_id}").body
    assert got["name"] is None and got["attributes"] == {"zone": "north"}
    assert api.patch(f"/customer/devices/{device_id}", {}).status == 400
    bad = api.patch(f"/customer/devices/{device_id}", {"status": "active"})
    assert bad.status == 400 and bad.body["field"] == "status"
    assert other_api.patch(f"/customer/devices/{device_id}", {"name": "x"}).status == 404
    assert api.patch("/customer/devices/missing-1", {"name": "x"}).status == 404
    assert api.get(f"/customer/devices/{device_id}").body["name"] is None


def test_delete_group_removes_memberships_but_not_devices(api: Api, other_api: Api) -> None:
    device_id, _ = api.create_device()
    assert api.post("/customer/groups", {"group_id": "g-del", "name": "G"}).status == 201
    assert api.put(f"/customer/groups/g-del/members/{device_id}").status == 201
    assert other_api.delete("/customer/groups/g-del").status == 404
    resp = api.delete("/customer/groups/g-del")
    assert resp.status == 200 and resp.body == {"group_id": "g-del", "deleted": True, "members_removed": 1}
    assert api.get("/customer/groups/g-del").status == 404
    assert api.delete("/customer/groups/g-del").status == 404
    assert api.get(f"/customer/devices/{device_id}").status == 200
    # Re-created under the same id, the group starts empty.
    assert api.post("/customer/groups", {"group_id": "g-del", "name": "G"}).status == 201
    again = api.get("/customer/groups/g-del").body
    assert again["members"] == [] and again["member_count"] == 0


def _routes_by_auth() -> dict[str, list[tuple[str, str]]]:
    from app import app
    from chalicelib.apidocs.registry import OPERATIONS

    by_auth: dict[str, list[tuple[str, str]]] = {}
    for path, methods in app.routes.items():
        for method in methods:
            by_auth.setdefault(OPERATIONS[(method, path)].auth, []).append((method, path))
    return by_auth


@pytest.mark.parametrize("path_id", ["x1", "bad id", "a" * 65])
def test_every_guarded_route_refuses_a_caller_without_its_credential_before_anything_else(
        api: Api, path_id: str) -> None:
    # Given every registered route, by the credential its contract documents
    by_auth = _routes_by_auth()
    assert {m_p[1] for m_p in by_auth["none"]} == {"/health", "/openapi.json", "/docs", "/docs/{asset}"}
    device_id, device_token = api.create_device()
    wrong = {"operator": {"X-Provision-Token": device_token}, "device": {"Authorization": f"Bearer {api.token}"},
             "broker": {"Authorization": f"Bearer {api.token}", "X-Provision-Token": device_token}}
    for kind in ("operator", "device", "broker"):
        for method, template in by_auth[kind]:
            path = template
            for name in ("device_id", "group_id", "site_id", "job_id", "command_id", "name"):
                path = path.replace("{" + name + "}", path_id.replace(" ", "%20"))
            for headers in ({}, wrong[kind]):
                # When it is called without its own credential (none, or another kind's), even with a bad id
                resp = api.call(method, path, raw=b"not json", headers=headers, auth=False)
                # Then it is a 401: the caller is checked before the path, the body or the store
                assert resp.status == 401 and resp.body["error"] == "unauthenticated", (method, path, resp.body)
    assert api.get(f"/customer/devices/{device_id}").body["last_seen_at"] is None
