"""GET /health without auth (cheap, cached state); GET /customer/health for operators (the backlogs)."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import wiring
from chalicelib.core.auth.routes import operator_auth
from chalicelib.core.http.views import endpoint, json_response

bp = Blueprint(__name__)


@bp.route("/health", methods=["GET"])
@endpoint
def health() -> Any:
    report = wiring.health_service().check()
    return json_response(report, 200 if report["status"] == "ok" else 503)


@bp.route("/customer/health", methods=["GET"], authorizer=operator_auth)
@endpoint
def health_details() -> Any:
    # A report for people, not a probe: 200 whatever it says.
    return json_response(wiring.health_service().details())
