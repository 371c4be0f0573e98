"""GET /health without auth (cheap, cached state); GET /customer/health for operators (the backlogs)."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.auth.routes import OPERATOR, OperatorCall
from chalicelib.core.feature import provided
from chalicelib.core.http.route import PUBLIC, Call, route
from chalicelib.core.http.views import json_response
from chalicelib.health.services import HealthServices

bp = Blueprint(__name__)
_health = provided(HealthServices)


@route(bp, "/health", "GET", auth=PUBLIC)
def health(call: Call[None]) -> Response:
    report = _health().health_service.check()
    return json_response(report, 200 if report["status"] == "ok" else 503)


@route(bp, "/customer/health", "GET", auth=OPERATOR)
def health_details(call: OperatorCall) -> Response:
    # A report for people, not a probe: 200 whatever it says. Backlogs are the caller's tenant's only.
    return json_response(_health().health_service.details(call.principal.tenant_id))
