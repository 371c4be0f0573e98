"""Device routes that concern the device itself (heartbeat)."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.feature import provided
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response
from chalicelib.devices.auth import DEVICE, DeviceCall
from chalicelib.devices.services import DeviceServices

bp = Blueprint(__name__)
_devices = provided(DeviceServices)


@route(bp, "/device/v1/heartbeat", "POST", auth=DEVICE)
def heartbeat(call: DeviceCall) -> Response:
    return json_response(_devices().device_service.heartbeat(call.principal))
