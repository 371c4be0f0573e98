"""The console's hand-typed API shapes match the backend's pydantic models.

Every interface of frontend/src/types/api.ts annotated `@model` must name the same fields
as its model, optional exactly where the model has a default, nullable exactly where the
model allows null, with the same primitive kind and the same enum values.
"""
from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
from pydantic import BaseModel

from app import app
from chalicelib.apidocs.builder import build_document
from chalicelib.commands.params import PARAMS_BY_TYPE
from chalicelib.core.ids import ID_PATTERN
from chalicelib.core.schema import Request
from tests.console_types import ROOT, read_api_types, read_command_catalog, string_literals

INTERFACES, ALIASES = read_api_types()
MODEL_BACKED = sorted(name for name, iface in INTERFACES.items() if iface.model)
OPENAPI_BACKED = sorted(name for name, iface in INTERFACES.items() if iface.openapi)
DOCUMENT = build_document({path: list(methods) for path, methods in app.routes.items()}, "console-check")
# Answers of routes the console does not call (it never deletes devices, sites or groups,
# rotates tokens or reads the bare delta); the pages types come from `Page<K, T>`.
UNUSED_BY_CONSOLE = {"DeviceDeleted", "SiteDeleted", "GroupDeleted", "TokenRotated", "TwinDelta",
                     "MemberAdded", "MemberRemoved", "DevicePage", "GroupPage", "JobPage", "SitePage", "BatchPage",
                     "FirmwarePage", "CertificatePage", "CertificateDeleted", "SettledCommandPage",
                     # Named shadows (AWS IoT devices) have operator routes but no console panel yet.
                     "ShadowDeleted", "ShadowDocument", "ShadowNames", "ShadowUpdated",
                     # The detailed health is for operators' tools (curl, the CLI), not a console page yet.
                     "HealthDetails",
                     # Templates are written with the API; the console shows them and their claim certificates.
                     "TemplatePage", "TemplateDeleted", "DryRunResult", "ClaimCertificatePage"}


def _model(dotted: str) -> type[BaseModel]:
    module, _, name = dotted.rpartition(".")
    model = getattr(importlib.import_module(module), name)
    assert issubclass(model, BaseModel)
    return model


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    # Requests are what the console sends (validation); records what it receives (serialization).
    return model.model_json_schema(mode="validation" if issubclass(model, Request) else "serialization")


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = prop.get("$ref")
    return defs[ref.rsplit("/", 1)[1]] if ref else prop


def _variants(prop: dict[str, Any], defs: dict[str, Any]) -> list[dict[str, Any]]:
    options = prop.get("anyOf") or [prop]
    return [_resolve(o, defs) for o in options]


def _kind(variant: dict[str, Any]) -> str:
    kind: str | None = variant.get("type")
    if kind is None:
        return "string" if "enum" in variant else "any"
    return {"integer": "number", "number": "number"}.get(kind, kind)


def _ts_kind(ts_type: str) -> str:
    resolved = ALIASES.get(ts_type, ts_type)
    if resolved.endswith("[]"):
        return "array"
    if string_literals(ts_type, ALIASES) is not None or resolved == "string":
        return "string"
    if resolved in ("number", "boolean"):
        return resolved
    if resolved.startswith(("Record<", "Partial<Record<", "{")) or resolved == "JsonObject":
        return "object"
    return "any"


def test_the_reader_finds_the_model_backed_interfaces() -> None:
    assert {"Device", "Command", "CreateCommand", "Job", "Execution", "CreateJob", "Site", "PatchDesired"} \
        <= set(MODEL_BACKED)


def _compare(name: str, schema: dict[str, Any], defs: dict[str, Any], source: str) -> None:
    iface = INTERFACES[name]
    props = schema["properties"]
    required = set(schema.get("required", []))
    assert set(iface.fields) == set(props), f"{name}: fields differ from {source}"
    for field_name, ts in iface.fields.items():
        variants = _variants(props[field_name], defs)
        non_null = [v for v in variants if v.get("type") != "null"]
        where = f"{name}.{field_name}"
        assert ts.optional == (field_name not in required), f"{where}: optional in one, required in the other"
        assert ts.nullable == (len(non_null) < len(variants)), f"{where}: nullability differs"
        kinds = {_kind(v) for v in non_null}
        ts_kind = _ts_kind(ts.bare_type())
        if "any" not in kinds and ts_kind != "any":
            assert kinds == {ts_kind}, f"{where}: {ts.bare_type()} is not {kinds}"
        enums = [set(v["enum"]) for v in non_null if "enum" in v]
        if enums:
            assert string_literals(ts.bare_type(), ALIASES) == enums[0], f"{where}: enum values differ"


@pytest.mark.parametrize("name", MODEL_BACKED)
def test_interface_matches_its_pydantic_model(name: str) -> None:
    schema = _schema(_model(INTERFACES[name].model or ""))
    _compare(name, schema, schema.get("$defs", {}), str(INTERFACES[name].model))


@pytest.mark.parametrize("name", OPENAPI_BACKED)
def test_interface_matches_its_openapi_component(name: str) -> None:
    components = DOCUMENT["components"]["schemas"]
    component = INTERFACES[name].openapi or ""
    _compare(name, components[component], components, f"components.schemas.{component}")


def test_every_operator_answer_the_console_reads_is_typed() -> None:
    # Each 2xx answer of an operator route names a component; the console types it (or its model).
    typed = {i.openapi for i in INTERFACES.values()} | {(i.model or "").rpartition(".")[2] for i in INTERFACES.values()}
    answers = set()
    for path, operations in DOCUMENT["paths"].items():
        if not path.startswith("/customer/"):
            continue
        for operation in operations.values():
            for status, answer in operation["responses"].items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
                ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
                if status.startswith("2") and ref:
                    answers.add(ref.rsplit("/", 1)[1])
    untyped = answers - typed - UNUSED_BY_CONSOLE
    assert untyped == set(), f"operator answers without a console type: {sorted(untyped)}"


def test_command_catalog_matches_the_typed_parameters() -> None:
    catalog = read_command_catalog()
    assert set(catalog) == set(PARAMS_BY_TYPE)
    for command_type, params in catalog.items():
        schema = PARAMS_BY_TYPE[command_type].model_json_schema()
        fields, required = set(schema.get("properties", {})), set(schema.get("required", []))
        assert set(params) <= fields, f"{command_type}: unknown parameters {set(params) - fields}"
        assert required <= set(params), f"{command_type}: the form lacks required {required - set(params)}"
        assert {p for p, req in params.items() if req} == required, f"{command_type}: required flags differ"


def test_console_id_pattern_is_the_api_id_pattern() -> None:
    text = (ROOT / "frontend" / "src" / "lib" / "ids.ts").read_text()
    match = re.search(r"export const ID_PATTERN = /(.+)/;", text)
    assert match and match[1] == ID_PATTERN
