"""GET /health, without auth."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.container import container
from chalicelib.core.http.route import PUBLIC, Call, route
from chalicelib.core.http.views import json_response

bp = Blueprint(__name__)


@route(bp, "/health", "GET", auth=PUBLIC)
def health(call: Call[None]) -> Response:
    report = container().health_service.check()
    return json_response(report, 200 if report["status"] == "ok" else 503)
