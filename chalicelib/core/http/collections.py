"""The two operator routes a collection shares: create one in the caller's tenant, list a page of them."""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol

from chalice import Blueprint, Response

from chalicelib.core.auth.routes import OPERATOR, OperatorCall
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response, page_response


class Creates(Protocol):
    def create(self, tenant_id: str, request: Any) -> Any: ...


class Lists(Protocol):
    def list_page(self, tenant_id: str, limit: int, next_token: str | None) -> Any: ...


def create_route(bp: Blueprint, path: str, name: str, model: tuple[str, str], service: Callable[[], Creates]) -> None:
    """POST `path`: the body as `model` (module, class name), created by the service in the caller's tenant (201).

    The model is named rather than passed: it is imported on the first request, so registering
    the route does not load pydantic.
    """

    def create(call: OperatorCall) -> Response:
        body = call.body(getattr(importlib.import_module(model[0]), model[1]))
        return json_response(service().create(call.principal.tenant_id, body), 201)

    create.__name__ = create.__qualname__ = name
    route(bp, path, "POST", auth=OPERATOR)(create)


def list_route(bp: Blueprint, path: str, key: str, service: Callable[[], Lists]) -> None:
    """GET `path`: one page of the caller's tenant, under `key`."""

    def list_page(call: OperatorCall) -> Response:
        return page_response(key, service().list_page(call.principal.tenant_id, *call.page()))

    list_page.__name__ = list_page.__qualname__ = f"list_{key}"
    route(bp, path, "GET", auth=OPERATOR)(list_page)
