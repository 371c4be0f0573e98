"""POST /broker/authn and /broker/authz: the HTTP hooks a self-hosted broker (EMQX, ...) calls.

The broker sends the shared secret in `X-Broker-Secret`; answers are always 200 with
{"result": "allow" | "deny" | "ignore"} once the secret is right.
"""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import wiring
from chalicelib.broker_auth.schemas import AuthnRequest, AuthzRequest, Decision
from chalicelib.broker_auth.service import BrokerAuthService
from chalicelib.core.http.views import endpoint, json_response, parse_body

bp = Blueprint(__name__)
MAX_BODY = 4096


def _service() -> BrokerAuthService:
    s = wiring.settings()
    return BrokerAuthService(wiring.device_repository().principal_for_token, s.broker_auth_secret)


@bp.route("/broker/authn", methods=["POST"])
@endpoint
def authn() -> Any:
    service = _service()
    service.check_secret(bp.current_request.headers.get("x-broker-secret"))
    body = parse_body(bp.current_request, AuthnRequest, MAX_BODY)
    return json_response(Decision(result=service.authenticate(body.username, body.password, body.clientid)))


@bp.route("/broker/authz", methods=["POST"])
@endpoint
def authz() -> Any:
    service = _service()
    service.check_secret(bp.current_request.headers.get("x-broker-secret"))
    body = parse_body(bp.current_request, AuthzRequest, MAX_BODY)
    return json_response(Decision(result=service.authorize(body.username, body.topic, body.action)))
