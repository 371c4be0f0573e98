"""Operator routes of device imports: start one, follow it, download its credentials once."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.auth.routes import OPERATOR, OperatorCall
from chalicelib.core.feature import provided
from chalicelib.core.http.collections import list_route
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response
from chalicelib.imports.services import ImportServices

bp = Blueprint(__name__)
_imports = provided(ImportServices)

# JSON lines and CSV; application/json is accepted so that a wrong type is answered with the
# edge's 400 naming Content-Type, not API Gateway's bare 415.
IMPORT_TYPES = ("text/csv", "application/csv", "application/x-ndjson", "application/jsonl",
                "application/json-lines", "application/x-jsonlines", "application/json")


@route(bp, "/customer/device-imports", "POST", auth=OPERATOR, content_types=IMPORT_TYPES)
def start_import(call: OperatorCall) -> Response:
    from chalicelib.core.config import get_settings  # pydantic: on the first call, not at import
    from chalicelib.imports.parse import format_of
    from chalicelib.imports.schemas import ImportQuery

    who = call.principal
    fmt = format_of(call.header("content-type"))
    query = call.query(ImportQuery)
    body = call.raw_body(get_settings().device_imports.max_body_bytes)
    started = _imports().device_import_service.start(who.tenant_id, fmt, body, query.client_token, who.subject)
    # 202: the import may still be running (the schedule finishes what the request had no time for).
    return json_response(started.record, 200 if started.replayed else 202)


list_route(bp, "/customer/device-imports", "imports", lambda: _imports().device_import_service)


@route(bp, "/customer/device-imports/{import_id}", "GET", auth=OPERATOR)
def get_import(call: OperatorCall, import_id: str) -> Response:
    from chalicelib.imports.schemas import ResultQuery

    outcome = call.query(ResultQuery).outcome
    return json_response(_imports().device_import_service.get(call.principal.tenant_id, import_id, *call.page(),
                                                               outcome=outcome))


@route(bp, "/customer/device-imports/{import_id}/credentials", "POST", auth=OPERATOR)
def download_credentials(call: OperatorCall, import_id: str) -> Response:
    from chalicelib.imports.schemas import ImportCredentials

    # A POST: the answer is given once, and what is read once must not be a GET a cache or prefetch may take.
    credentials = _imports().device_import_service.download(call.principal.tenant_id, import_id)
    return json_response(ImportCredentials(import_id=import_id, credentials=credentials),
                         headers={"Cache-Control": "no-store"})
