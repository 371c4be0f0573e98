"""The one edge every route is registered through: caller, body limits, path ids and error mapping.

Chalice's REST middleware sees the view's Response, not its exception (aws/chalice#1884),
so the edge is a registration helper instead: `route(bp, path, method, auth=...)` wraps the
view so that it receives a `Call` (the authenticated caller, the body and query parsed with
the stage's limits) and whatever it raises is answered through the one error table.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from chalice import Blueprint
from chalice.app import Request

from chalicelib.core.errors import InvalidInput, PayloadTooLarge
from chalicelib.core.http.views import answer, page_args, parse_body, parse_query, path_id

if TYPE_CHECKING:
    from pydantic import BaseModel

    from chalicelib.core.policies import HttpLimits

P = TypeVar("P")
M = TypeVar("M", bound="BaseModel")
View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class Auth(Generic[P]):
    """Who may call a route: the gateway authorizer in front of it, and how the edge finds the caller."""

    principal: Callable[[Request], P]
    authorizer: Any = None


def _nobody(request: Request) -> None:
    return None


PUBLIC: Auth[None] = Auth(principal=_nobody)


class Call(Generic[P]):
    """One request as a view sees it: its caller, and its body and query parsed with the stage's limits."""

    def __init__(self, request: Request, principal: P) -> None:
        self.request = request
        self.principal = principal

    def body(self, model: type[M], max_bytes: int | None = None) -> M:
        """The JSON body as `model`: 413 over the stage's (or the route's) limit, 400 naming the field."""
        return parse_body(self.request, model, max_bytes or _limits().max_body_bytes)

    def raw_body(self, max_bytes: int) -> bytes:
        """The body as sent (a CSV, JSON lines): 413 over `max_bytes`, 400 when empty."""
        body = self.request.raw_body or b""
        raw = body.encode() if isinstance(body, str) else body
        if len(raw) > max_bytes:
            raise PayloadTooLarge(f"body exceeds {max_bytes} bytes", field="body", limit=max_bytes)
        if not raw.strip():
            raise InvalidInput("a body is required", field="body")
        return raw

    def header(self, name: str) -> str | None:
        """One request header (case-insensitive)."""
        return self.request.headers.get(name)

    def query(self, model: type[M]) -> M:
        """The query string as `model` (400 naming the parameter)."""
        return parse_query(self.request, model)

    def page(self) -> tuple[int, str | None]:
        """limit and next_token of a listing, bounded by the stage's page sizes."""
        limits = _limits()
        return page_args(self.request, limits.page_size_default, limits.page_size_max)


def route(bp: Blueprint, path: str, method: str, *, auth: Auth[Any] = PUBLIC,
          ids: tuple[str, ...] | None = None, content_types: tuple[str, ...] = ()) -> Callable[[View], View]:
    """Register `view(call, **path_params)` on `bp` behind the edge.

    The caller is found first (401 without the route's credential); then path parameters
    named in `ids` (default: every `*_id`) must be ids: a malformed one cannot exist, so it
    is a 404 before the view runs. `content_types` widens what the body may be (JSON only by default).
    """

    def register(view: View) -> View:
        @functools.wraps(view)
        def edge(**params: str) -> Any:
            request = bp.current_request

            def run() -> Any:
                # The caller first: whoever lacks the route's credential learns nothing about the path.
                principal = auth.principal(request)
                for name in (ids if ids is not None else [p for p in params if p.endswith("_id")]):
                    path_id(params[name], name)
                return view(Call(request, principal), **params)

            return answer(run, view.__name__, lambda: _request_id(request))

        extra: dict[str, Any] = {"content_types": list(content_types)} if content_types else {}
        bp.route(path, methods=[method], authorizer=auth.authorizer, **extra)(edge)
        return view

    return register


def _request_id(request: Request) -> str:
    try:
        return str(request.context.get("requestId", ""))
    except Exception:  # no request context: nothing better to report
        return ""


def _limits() -> HttpLimits:
    # Settings (pydantic) load on the first request that needs them, not when routes register.
    from chalicelib.core.config import get_settings

    return get_settings().http
