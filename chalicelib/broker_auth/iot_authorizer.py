"""The `iot_authorizer` Lambda: AWS IoT Core calls it when a device connects with username/password."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.feature import provided
from chalicelib.devices.services import DeviceServices

bp = Blueprint(__name__)
_devices = provided(DeviceServices)


@bp.lambda_function(name="iot_authorizer")
def iot_authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A policy of the device's own topics, or isAuthenticated false."""
    from chalicelib.broker_auth.iot_policy import authorize  # its event model loads pydantic: not at import
    from chalicelib.broker_auth.service import BrokerAuthService  # hashing: on the first call

    service = BrokerAuthService(_devices().device_repository.principal_for_token, "")
    return authorize(event, context.invoked_function_arn, service)
