"""Request parsing and the one table that maps domain errors to HTTP responses.

pydantic is imported where a body or query is parsed, not with this module: registering the
routes (every function's cold start) does not load it.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard, TypeVar

from chalice import Response
from chalice.app import Request

from chalicelib.core import errors
from chalicelib.core.ids import is_valid_id
from chalicelib.core.observability.log import logger
from chalicelib.core.strict_json import UnsafeJson, loads_strict

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound="BaseModel")

STATUS_BY_ERROR: dict[type[errors.DomainError], int] = {
    errors.InvalidInput: 400,
    errors.Unauthenticated: 401,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.Unavailable: 503,
}


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    from pydantic import BaseModel  # loaded already when a model is being answered

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response; pydantic models and datetimes serialise the same everywhere."""
    return Response(
        body=json.dumps(body, default=_default, separators=(",", ":")),
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def error_response(exc: errors.DomainError) -> Response:
    """The JSON error body: machine code, human message, the field at fault."""
    status = next((code for cls, code in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 500)
    body: dict[str, Any] = {"error": exc.code, "message": exc.message}
    if exc.field:
        body["field"] = exc.field
    body.update(exc.extra)
    return json_response(body, status)


def validation_error(exc: ValidationError, prefix: str = "") -> errors.InvalidInput:
    """Name the first offending field of a pydantic error."""
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ()))
    field = f"{prefix}{loc}" if loc else prefix.rstrip(".") or "body"
    return errors.InvalidInput(f"{field}: {first.get('msg')}", field=field)


def answer(run: Callable[[], Any], name: str, request_id: Callable[[], str]) -> Any:
    """run(): domain and validation errors become JSON 4xx, anything else a bare 500 (logged)."""
    try:
        return run()
    except errors.DomainError as exc:
        return error_response(exc)
    except Exception as exc:
        if _is_validation_error(exc):
            return error_response(validation_error(exc))
        rid = request_id()
        logger.exception("unhandled error", view=name, request_id=rid, outcome="error")
        return json_response({"error": "internal", "message": "internal error", "request_id": rid}, 500)


def _is_validation_error(exc: Exception) -> TypeGuard[ValidationError]:
    # A ValidationError can only come from a loaded pydantic: the check never imports it.
    core = sys.modules.get("pydantic_core")
    return core is not None and isinstance(exc, core.ValidationError)


def parse_body(request: Request, model: type[M], max_bytes: int) -> M:
    """Parse and validate a JSON body: 413 when too big, 400 naming the field otherwise."""
    raw = request.raw_body or b""
    if len(raw) > max_bytes:
        raise errors.PayloadTooLarge(f"body exceeds {max_bytes} bytes", field="body", limit=max_bytes)
    if not raw.strip():
        raise errors.InvalidInput("a JSON body is required", field="body")
    try:
        data = loads_strict(raw)
    except UnsafeJson as exc:
        raise errors.InvalidInput(str(exc), field=exc.path or "body") from exc
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise errors.InvalidInput(f"body is not valid JSON: {exc}", field="body") from exc
    if not isinstance(data, dict):
        raise errors.InvalidInput("body must be a JSON object", field="body")
    return _validate(model, data)


def parse_query(request: Request, model: type[M]) -> M:
    """Validate query-string parameters with a pydantic model."""
    return _validate(model, dict(request.query_params or {}))


def _validate(model: type[M], data: dict[str, Any]) -> M:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from exc


def page_args(request: Request, default: int, maximum: int) -> tuple[int, str | None]:
    """limit and next_token of a listing, bounded by the stage's page sizes."""
    from chalicelib.core.schema import PageQuery

    query = parse_query(request, PageQuery)
    return min(query.limit or default, maximum), query.next_token


def path_id(value: str, field: str) -> str:
    """A path parameter that must be an id; a malformed one can't exist, so 404."""
    if not is_valid_id(value):
        raise errors.NotFound(f"{field} {value!r} not found", field=field)
    return value


def page_body(key: str, items: list[Any], next_token: str | None) -> dict[str, Any]:
    """The envelope of every paginated listing."""
    return {key: items, "next_token": next_token}


class _Paged(Protocol):
    @property
    def items(self) -> Sequence[Any]: ...

    @property
    def next_token(self) -> str | None: ...


def page_response(key: str, page: _Paged, record: BaseModel | None = None) -> Response:
    """A listing's page as JSON under `key`, or, with `record`, that record with one page of its children."""
    head = record.model_dump(mode="json") if record is not None else {}
    return json_response({**head, **page_body(key, list(page.items), page.next_token)})
