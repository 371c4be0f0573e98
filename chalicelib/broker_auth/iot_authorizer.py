"""The `iot_authorizer` Lambda: AWS IoT Core calls it when a device connects with username/password."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.broker_auth.service import BrokerAuthService
from chalicelib.container import container

bp = Blueprint(__name__)


@bp.lambda_function(name="iot_authorizer")
def iot_authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A policy of the device's own topics, or isAuthenticated false."""
    from chalicelib.broker_auth.iot_policy import authorize  # its event model loads pydantic: not at import

    service = BrokerAuthService(container().device_repository.principal_for_token, "")
    return authorize(event, context.invoked_function_arn, service)
