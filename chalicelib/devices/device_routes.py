"""Device routes that concern the device itself (heartbeat)."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import wiring
from chalicelib.core.auth.routes import device
from chalicelib.core.http.views import endpoint, json_response

bp = Blueprint(__name__)


@bp.route("/device/v1/heartbeat", methods=["POST"])
@endpoint
def heartbeat() -> Any:
    principal = device(bp.current_request)
    return json_response(wiring.device_service().heartbeat(principal))
