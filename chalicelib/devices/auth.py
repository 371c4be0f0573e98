"""The device edge: device routes authenticate with the device's X-Provision-Token."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Request

from chalicelib.core.feature import provided
from chalicelib.core.http.route import Auth, Call
from chalicelib.devices.services import DeviceServices

if TYPE_CHECKING:
    from chalicelib.devices.schemas import DevicePrincipal

_devices = provided(DeviceServices)


def device(request: Request) -> DevicePrincipal:
    """The device owning this request's X-Provision-Token (401 otherwise)."""
    token = request.headers.get("x-provision-token") if request.headers else None
    return _devices().device_service.authenticate(token)


DEVICE: Auth[DevicePrincipal] = Auth(principal=device)
DeviceCall = Call["DevicePrincipal"]
