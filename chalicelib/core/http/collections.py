"""The operator routes collections share: create one in the caller's tenant, list a page of them, delete one."""
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


class Deletes(Protocol):
    def delete(self, tenant_id: str, item_id: str, /) -> None: ...


class Collection(Creates, Lists, Protocol):
    """A service that creates and lists one kind of resource."""


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


def collection_routes(bp: Blueprint, path: str, key: str, model: tuple[str, str],
                      service: Callable[[], Collection]) -> None:
    """POST and GET `path`: create one (the body as `model`), list a page of them under `key`."""
    create_route(bp, path, f"create_{key.removesuffix('s')}", model, service)
    list_route(bp, path, key, service)


def delete_route(bp: Blueprint, path: str, id_param: str, service: Callable[[], Deletes]) -> None:
    """DELETE `path`: the service deletes the `id_param` of the caller's tenant; the answer names it, deleted."""

    def delete(call: OperatorCall, **params: str) -> Response:
        service().delete(call.principal.tenant_id, params[id_param])
        return json_response({id_param: params[id_param], "deleted": True})

    delete.__name__ = delete.__qualname__ = f"delete_{id_param.removesuffix('_id')}"
    route(bp, path, "DELETE", auth=OPERATOR)(delete)
