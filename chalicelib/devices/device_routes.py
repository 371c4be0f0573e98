"""Device routes that concern the device itself (heartbeat)."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.container import container
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response
from chalicelib.devices.auth import DEVICE, DeviceCall

bp = Blueprint(__name__)


@route(bp, "/device/v1/heartbeat", "POST", auth=DEVICE)
def heartbeat(call: DeviceCall) -> Response:
    return json_response(container().device_service.heartbeat(call.principal))
