"""The served contract: every route is documented, the document validates, the models are real."""
from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from app import app
from chalicelib.apidocs.builder import UnknownRoute, build_document
from chalicelib.apidocs.registry import OPERATIONS


def _routes() -> dict[str, list[str]]:
    return {path: list(methods) for path, methods in app.routes.items()}


def test_every_route_is_in_the_document_and_it_validates() -> None:
    doc = build_document(_routes(), "test")
    validate(doc)
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    registered = {(method, path) for path, methods in app.routes.items() for method in methods}
    assert documented == registered
    assert len(documented) >= 40


def test_a_route_missing_from_the_registry_fails_the_build() -> None:
    routes = {**_routes(), "/customer/undocumented": ["GET"]}
    with pytest.raises(UnknownRoute, match="GET /customer/undocumented"):
        build_document(routes, "test")


def test_registry_has_no_stale_entries() -> None:
    registered = {(method, path) for path, methods in app.routes.items() for method in methods}
    assert set(OPERATIONS) - registered == set()


def test_every_answer_has_a_real_schema_and_errors_share_one() -> None:
    doc = build_document(_routes(), "test")
    schemas = doc["components"]["schemas"]
    assert set(schemas["ErrorBody"]["required"]) == {"error", "message"}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for status, resp in op["responses"].items():
                content = resp.get("content", {})
                assert content, f"{method} {path} {status} has no body schema"
                schema = next(iter(content.values()))["schema"]
                if (status.startswith(("4", "5")) or status == "default") and path != "/health":
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)
            if path.startswith("/customer/"):
                assert op["security"] == [{"operatorBearer": []}]
                assert "401" in op["responses"]
            elif path.startswith("/device/"):
                assert op["security"] == [{"deviceToken": []}]
            elif path.startswith("/broker/"):
                assert op["security"] == [{"brokerSecret": []}]
            else:
                assert op["security"] == []
            if "requestBody" in op:
                for media in op["requestBody"]["content"].values():
                    assert "example" in media, (method, path)


def test_history_documents_its_array_and_header_cursor() -> None:
    doc = build_document(_routes(), "test")
    ok = doc["paths"]["/customer/devices/{device_id}/commands"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["type"] == "array"
    assert "X-Next-Token" in ok["headers"]


def test_every_listing_documents_the_page_bounds_it_enforces() -> None:
    # The edge refuses limit outside 1..1000 and a next_token over 4096 characters on every listing
    doc = build_document(_routes(), "test")
    paged = {path: {p["name"]: p["schema"] for p in op.get("parameters", []) if p["in"] == "query"}
             for path, ops in doc["paths"].items() for op in ops.values() if "limit" in str(op.get("parameters"))}
    assert "/customer/jobs" in paged and len(paged) >= 8
    for path, params in paged.items():
        assert (params["limit"].get("minimum"), params["limit"].get("maximum")) == (1, 1000), path
        assert params["next_token"].get("maxLength") == 4096, path
