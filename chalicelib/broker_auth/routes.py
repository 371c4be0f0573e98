"""POST /broker/authn and /broker/authz: the HTTP hooks a self-hosted broker (EMQX, ...) calls.

The broker sends the shared secret in `X-Broker-Secret`; answers are always 200 with
{"result": "allow" | "deny" | "ignore"} once the secret is right.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.core.feature import provided
from chalicelib.core.http.route import Auth, Call, route
from chalicelib.core.http.views import json_response
from chalicelib.devices.services import DeviceServices

if TYPE_CHECKING:
    from chalicelib.broker_auth.service import BrokerAuthService

bp = Blueprint(__name__)
MAX_BODY = 4096
_devices = provided(DeviceServices)


def _broker(request: Request) -> BrokerAuthService:
    """The broker's decisions, once its shared secret is checked (401 otherwise)."""
    from chalicelib.broker_auth.service import BrokerAuthService  # hashing: on the first call
    from chalicelib.core.config import get_settings  # pydantic: on the first call, not at import

    service = BrokerAuthService(_devices().device_repository.principal_for_token, get_settings().broker_auth_secret)
    service.check_secret(request.headers.get("x-broker-secret"))
    return service


BROKER: Auth[BrokerAuthService] = Auth(principal=_broker)


@route(bp, "/broker/authn", "POST", auth=BROKER)
def authn(call: Call[BrokerAuthService]) -> Response:
    from chalicelib.broker_auth.schemas import AuthnRequest, Decision

    body = call.body(AuthnRequest, MAX_BODY)
    return json_response(Decision(result=call.principal.authenticate(body.username, body.password, body.clientid)))


@route(bp, "/broker/authz", "POST", auth=BROKER)
def authz(call: Call[BrokerAuthService]) -> Response:
    from chalicelib.broker_auth.schemas import AuthzRequest, Decision

    body = call.body(AuthzRequest, MAX_BODY)
    return json_response(Decision(result=call.principal.authorize(body.username, body.topic, body.action)))
