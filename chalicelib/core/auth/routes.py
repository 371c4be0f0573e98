"""The operator authorizer and the device-token check used by device routes."""
from __future__ import annotations

from chalice import AuthResponse, Blueprint
from chalice.app import AuthRequest, Request

from chalicelib import wiring
from chalicelib.core.auth.operator import OperatorPrincipal, refusal_reason
from chalicelib.core.errors import DomainError
from chalicelib.core.observability.log import begin, logger
from chalicelib.core.observability.metrics import metrics
from chalicelib.devices.schemas import DevicePrincipal

bp = Blueprint(__name__)


@bp.authorizer(ttl_seconds=300)
def operator_auth(auth_request: AuthRequest) -> AuthResponse:
    """Verify the operator's Bearer JWT; the tenant travels in the authorizer context."""
    try:
        principal = wiring.operator_authenticator().verify(auth_request.token)
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
    """The authenticated operator of this request (set by the authorizer)."""
    ctx = request.context.get("authorizer") or {}
    return OperatorPrincipal(tenant_id=ctx["tenant_id"], subject=ctx.get("sub") or ctx.get("principalId", ""))


def device(request: Request) -> DevicePrincipal:
    """The device owning this request's X-Provision-Token (401 otherwise)."""
    token = request.headers.get("x-provision-token") if request.headers else None
    return wiring.device_service().authenticate(token)
