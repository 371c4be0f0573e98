"""One error shape for what the framework and the gateway answer by themselves.

Domain errors already leave `api/http.py` as `{"error", "message", "field"?}`. Chalice
itself answers some requests before or instead of a view (405 wrong method, 415 media
type, 400 binary Accept, 500 outside a view) with `{"Code", "Message"}`; the middleware
here rewrites those. API Gateway answers the rest (401/403 from the authorizer, unknown
paths, 413 over its own limit): `GATEWAY_RESPONSES` is what the deployed template sets as
gateway responses, and the local server applies the same table (infra/local/api_server.py).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response
from chalice.app import Request

bp = Blueprint(__name__)

# Chalice's own error codes -> ours.
CODE_BY_FRAMEWORK_ERROR: dict[str, str] = {
    "MethodNotAllowedError": "method_not_allowed",
    "UnsupportedMediaType": "unsupported_media_type",
    "BadRequest": "invalid_input",
    "BadRequestError": "invalid_input",
    "NotFoundError": "not_found",
    "UnauthorizedError": "unauthenticated",
    "ForbiddenError": "forbidden",
    "RequestTimeoutError": "timeout",
    "TooManyRequestsError": "too_many_requests",
    "InternalServerError": "internal",
}

CODE_BY_STATUS: dict[int, str] = {
    400: "invalid_input", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
    429: "too_many_requests", 500: "internal", 502: "bad_gateway", 503: "unavailable", 504: "timeout",
}

# API Gateway gateway responses (AWS::ApiGateway::GatewayResponse): type -> (status, code, message).
# An unknown path is MISSING_AUTHENTICATION_TOKEN there; it must be a 404 and must not echo headers.
GATEWAY_RESPONSES: dict[str, tuple[int, str, str]] = {
    "UNAUTHORIZED": (401, "unauthenticated", "missing, malformed, expired or invalid bearer token"),
    "ACCESS_DENIED": (403, "forbidden", "not allowed"),
    "MISSING_AUTHENTICATION_TOKEN": (404, "not_found", "no such route"),
    "RESOURCE_NOT_FOUND": (404, "not_found", "no such route"),
    "REQUEST_TOO_LARGE": (413, "payload_too_large", "request body too large"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "unsupported_media_type", "unsupported media type"),
    "THROTTLED": (429, "too_many_requests", "too many requests"),
    "DEFAULT_4XX": (400, "invalid_input", "request refused by the gateway"),
    "DEFAULT_5XX": (500, "internal", "internal error"),
}


def error_body(status: int, message: str, code: str | None = None, field: str | None = None) -> dict[str, Any]:
    """The one error body: machine code, safe human message, the field at fault when known."""
    body: dict[str, Any] = {"error": code or CODE_BY_STATUS.get(status, "error"), "message": message}
    if field:
        body["field"] = field
    return body


def gateway_response_templates() -> dict[str, dict[str, Any]]:
    """The gateway responses as CloudFormation properties (status code and JSON template)."""
    return {
        kind: {"ResponseType": kind, "StatusCode": str(status),
               "ResponseTemplates": {"application/json": json.dumps(error_body(status, message, code))}}
        for kind, (status, code, message) in GATEWAY_RESPONSES.items()
    }


def reshape(response: Response) -> Response:
    """Rewrite a framework `{"Code", "Message"}` error into our shape; others pass unchanged."""
    if response.status_code < 400:
        return response
    body = response.body
    if isinstance(body, (str, bytes)):
        try:
            body = json.loads(body)
        except ValueError:
            body = None
    if isinstance(body, dict) and "error" in body and "message" in body:
        return response
    if isinstance(body, dict) and "Code" in body:
        code = CODE_BY_FRAMEWORK_ERROR.get(str(body["Code"]), CODE_BY_STATUS.get(response.status_code, "error"))
        message = str(body.get("Message", "")) if response.status_code < 500 else "internal error"
    else:
        code = CODE_BY_STATUS.get(response.status_code, "error")
        message = "internal error" if response.status_code >= 500 else code.replace("_", " ")
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
    return Response(body=json.dumps(error_body(response.status_code, message, code)),
                    status_code=response.status_code, headers={**headers, "Content-Type": "application/json"})


@bp.middleware("http")
def one_error_shape(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Every non-2xx leaving the function has the one error shape."""
    return reshape(get_response(event))
