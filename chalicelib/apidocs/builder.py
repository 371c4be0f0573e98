"""Build the OpenAPI 3.1 document from the Chalice route table and the pydantic models.

OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what pydantic emits, so the models'
schemas go into `components.schemas` as they are (request bodies in validation mode,
answers in serialization mode).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from chalicelib.apidocs.models import ErrorBody
from chalicelib.apidocs.registry import OPERATIONS, Operation
from chalicelib.core.ids import ID_PATTERN

REF = "#/components/schemas/{model}"
ERROR_TEXT = {
    400: "Bad input; `field` names the body field or query parameter at fault",
    401: "Missing, malformed, expired or invalid credentials (the message says which)",
    404: "No such resource for this caller (another tenant's id included), or no such route",
    409: "The resource's state does not allow this change",
    413: "Body or document too large (`limit` gives the bound)",
    415: "The body is not application/json",
}
SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "operator": [{"operatorBearer": []}], "device": [{"deviceToken": []}], "broker": [{"brokerSecret": []}],
    "none": []}
PATH_PARAM = re.compile(r"{(\w+)}")


class UnknownRoute(LookupError):
    """A Chalice route with no entry in the contract registry."""


def build_document(routes: Mapping[str, Iterable[str]], version: str,
                   operations: Mapping[tuple[str, str], Operation] = OPERATIONS) -> dict[str, Any]:
    """The whole document for `routes` (path -> methods), as a JSON-ready dict."""
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for path in sorted(routes):
        for method in sorted(routes[path]):
            op = operations.get((method.upper(), path))
            if op is None:
                raise UnknownRoute(f"{method} {path} has no entry in the contract (chalicelib/apidocs/*_operations.py)")
            paths.setdefault(path, {})[method.lower()] = _operation(method, path, op, schemas)
    _add(ErrorBody, "serialization", schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Fleet control plane API", "version": version,
                 "description": "Operators call /customer/* with a Bearer JWT; devices call /device/v1/* "
                                "with their X-Provision-Token. Every non-2xx answer is an Error."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "operatorBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                   "description": "Operator JWT with `tenant_id` and `sub` claims"},
                "deviceToken": {"type": "apiKey", "in": "header", "name": "X-Provision-Token",
                                "description": "The device's provision token (shown once at creation or rotation)"},
                "brokerSecret": {"type": "apiKey", "in": "header", "name": "X-Broker-Secret",
                                 "description": "The secret shared with a self-hosted broker's HTTP auth hooks"},
            },
        },
    }


def _operation(method: str, path: str, op: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    params = [{"name": name, "in": "path", "required": True,
               "schema": {"type": "string", "enum": list(op.path_enums[name])} if name in op.path_enums
               else {"type": "string", "pattern": ID_PATTERN}}
              for name in PATH_PARAM.findall(path)]
    params += _query_params(op.query, schemas)
    doc: dict[str, Any] = {
        "operationId": _operation_id(method, path),
        "summary": op.summary,
        "tags": [op.tag],
        "security": SECURITY[op.auth],
        "responses": _responses(op, path, schemas),
    }
    if op.description:
        doc["description"] = op.description
    if params:
        doc["parameters"] = params
    if op.body is not None and op.body_media:
        row = _add(op.body, "validation", schemas)
        doc["requestBody"] = {"required": True, "description": f"Rows, each one {row['$ref']}",
                              "content": {kind: {"schema": {"type": "string"}, "example": example}
                                          for kind, example in op.body_media.items()}}
    elif op.body is not None:
        media: dict[str, Any] = {"schema": _add(op.body, "validation", schemas)}
        if op.example is not None:
            media["example"] = op.example
        doc["requestBody"] = {"required": True, "content": {"application/json": media}}
    return doc


def _responses(op: Operation, path: str, schemas: dict[str, Any]) -> dict[str, Any]:
    schema = _add(op.ok, "serialization", schemas)
    if op.many:
        schema = {"type": "array", "items": schema}
    ok: dict[str, Any] = {"description": op.summary, "content": {op.media_type: {"schema": schema}}}
    if op.many:
        ok["headers"] = {"X-Next-Token": {"description": "cursor of the next page; absent on the last page",
                                          "schema": {"type": "string"}}}
    responses: dict[str, Any] = {str(op.status): ok}
    for status, text in op.also.items():
        responses[str(status)] = {**ok, "description": text}
    error = {"$ref": REF.format(model="ErrorBody")}
    statuses = set(op.errors) | {404}
    if op.auth != "none":
        statuses |= {401}
    if op.body is not None:
        statuses |= {400, 413, 415}
    if op.query:
        statuses |= {400}
    for status in sorted(statuses):
        responses[str(status)] = {"description": ERROR_TEXT.get(status, "error"),
                                  "content": {"application/json": {"schema": error}}}
    if op.tag == "health" and op.auth == "none":  # the probe; the detailed report always answers 200
        responses["503"] = {"description": "a dependency is unreachable", "content": ok["content"]}
    responses["default"] = {"description": "Any other error (405, 500, 503, ...), in the same shape",
                            "content": {"application/json": {"schema": error}}}
    return responses


def _query_params(models: tuple[type[BaseModel], ...], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    params: dict[str, dict[str, Any]] = {}
    for model in models:
        schema = _schema_of(model, "validation", schemas)
        required = set(schema.get("required", ()))
        for name, prop in schema.get("properties", {}).items():
            params[name] = {"name": name, "in": "query", "required": name in required,
                            "schema": _without_null(prop)}
    return list(params.values())


def _add(model: type[BaseModel], mode: str, schemas: dict[str, Any]) -> dict[str, Any]:
    """Put a model (and what it refers to) into the components; return a $ref to it."""
    name = model.__name__
    schema = _schema_of(model, mode, schemas)
    _put(name, schema, schemas)
    return {"$ref": REF.format(model=name)}


def _schema_of(model: type[BaseModel], mode: str, schemas: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
    for name, sub in schema.pop("$defs", {}).items():
        _put(name, sub, schemas)
    return schema


def _put(name: str, schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    if name in schemas and schemas[name] != schema:
        # Two different models (or one model read in both modes) would share a name.
        raise ValueError(f"two different schemas are named {name}")
    schemas[name] = schema


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a value; `null` is not a thing a query string says."""
    options = [s for s in schema.get("anyOf", ()) if s.get("type") != "null"]
    if len(options) == 1:
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
        return {**options[0], **rest}
    return {k: v for k, v in schema.items() if k != "default"}


def _operation_id(method: str, path: str) -> str:
    words = [w for w in re.split(r"[/{}._-]+", path) if w]
    return method.lower() + "".join(w[:1].upper() + w[1:] for w in words)
