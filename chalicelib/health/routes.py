"""GET /health, without auth."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import wiring
from chalicelib.core.http.views import endpoint, json_response

bp = Blueprint(__name__)


@bp.route("/health", methods=["GET"])
@endpoint
def health() -> Any:
    report = wiring.health_service().check()
    return json_response(report, 200 if report["status"] == "ok" else 503)
