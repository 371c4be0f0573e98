"""The operator authorizer, and the operator edge every operator route is registered with."""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from chalice import AuthResponse, Blueprint
from chalice.app import AuthRequest, Request

from chalicelib.core.auth.operator import OperatorAuthenticator, OperatorPrincipal, refusal_reason
from chalicelib.core.errors import DomainError
from chalicelib.core.http.route import Auth, Call
from chalicelib.core.observability.log import begin, logger
from chalicelib.core.observability.metrics import metrics

if TYPE_CHECKING:
    from chalicelib.core.config import Settings

bp = Blueprint(__name__)


@lru_cache(maxsize=1)
def _authenticator(settings: Settings) -> OperatorAuthenticator:
    # Keyed by the settings: a test that changes them gets a fresh one (JWKS keys are cached inside).
    return OperatorAuthenticator(settings)


@bp.authorizer(ttl_seconds=300)
def operator_auth(auth_request: AuthRequest) -> AuthResponse:
    """Verify the operator's Bearer JWT; the tenant travels in the authorizer context."""
    from chalicelib.core.config import get_settings

    try:
        principal = _authenticator(get_settings()).verify(auth_request.token)
    except DomainError as exc:
        # The reason is safe to log and to show (it never contains the token); API Gateway
        # turns exactly this message into a 401, the local server shows the cause's message.
        # On AWS the authorizer is its own invocation: its line and metric stand alone.
        begin()
        reason = refusal_reason(exc)
        logger.warning("operator token refused", reason=reason, detail=exc.message, outcome="unauthenticated")
        metrics.count_by("AuthFailures", "reason", reason)
        raise Exception("Unauthorized") from exc
    return AuthResponse(
        routes=["*"],
        principal_id=principal.subject,
        context={"tenant_id": principal.tenant_id, "sub": principal.subject},
    )


def operator(request: Request) -> OperatorPrincipal:
    """The authenticated operator of this request: set by the authorizer, else its token verified here.

    A gateway that did not run the authorizer (a misconfigured deployment, an emulator without
    Lambda authorizers such as LocalStack Community) must not let a request through without a
    tenant: the function then checks the token itself and answers 401 in the API's shape.
    """
    ctx = request.context.get("authorizer") or {}
    if ctx.get("tenant_id"):
        return OperatorPrincipal(tenant_id=ctx["tenant_id"], subject=ctx.get("sub") or ctx.get("principalId", ""))
    from chalicelib.core.config import get_settings

    return _authenticator(get_settings()).verify(request.headers.get("authorization"))


OPERATOR: Auth[OperatorPrincipal] = Auth(principal=operator, authorizer=operator_auth)
OperatorCall = Call[OperatorPrincipal]
