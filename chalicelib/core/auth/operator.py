"""Operator authentication: verify a Bearer JWT with PyJWT and extract tenant and subject.

PyJWT is imported where a token is verified or signed, not here: it pulls in
cryptography (about 100 ms), which only the authorizer needs; the routes import this
module for `OperatorPrincipal` alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from chalicelib.core.errors import DomainError, Unauthenticated
from chalicelib.core.ids import is_valid_id

if TYPE_CHECKING:
    from chalicelib.core.config import Settings


@dataclass(frozen=True)
class OperatorPrincipal:
    """An authenticated operator."""

    tenant_id: str
    subject: str


class OperatorAuthenticator:
    """HS256 with the stage's secret, or RS256/ES256 against a JWKS URL when one is set."""

    def __init__(self, settings: Settings) -> None:
        import jwt

        self._settings = settings
        self._algorithms = [a.strip() for a in settings.jwt_algorithms.split(",") if a.strip()]
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True) if settings.jwt_jwks_url else None

    def verify(self, header_value: str | None) -> OperatorPrincipal:
        """Check the Authorization header value; any failure is Unauthenticated."""
        if not header_value:
            raise Unauthenticated("Authorization header is required", field="Authorization")
        scheme, _, token = header_value.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("Authorization must be 'Bearer <token>'", field="Authorization")
        import jwt

        s = self._settings
        try:
            key: object
            key = self._jwks.get_signing_key_from_jwt(token).key if self._jwks is not None else s.jwt_secret
            claims = jwt.decode(
                token,
                key=key,
                algorithms=self._algorithms,
                audience=s.jwt_audience or None,
                issuer=s.jwt_issuer or None,
                options={"require": ["exp"], "verify_aud": bool(s.jwt_audience)},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}", field="Authorization") from exc
        tenant = claims.get(s.jwt_tenant_claim)
        subject = claims.get(s.jwt_subject_claim)
        if not isinstance(tenant, str) or not is_valid_id(tenant):
            raise Unauthenticated(f"token has no valid '{s.jwt_tenant_claim}' claim", field="Authorization")
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated(f"token has no '{s.jwt_subject_claim}' claim", field="Authorization")
        return OperatorPrincipal(tenant_id=tenant, subject=subject)


def refusal_reason(exc: DomainError) -> str:
    """A short, fixed reason for a refused token (a log key and a metric label; never the token)."""
    import jwt

    cause = exc.__cause__
    if isinstance(cause, jwt.ExpiredSignatureError):
        return "expired"
    if isinstance(cause, jwt.InvalidSignatureError):
        return "bad_signature"
    if isinstance(cause, jwt.MissingRequiredClaimError):
        return "missing_claim"
    if isinstance(cause, (jwt.InvalidAudienceError, jwt.InvalidIssuerError)):
        return "wrong_audience_or_issuer"
    if isinstance(cause, jwt.InvalidAlgorithmError):
        return "bad_algorithm"
    if isinstance(cause, jwt.PyJWTError):
        return "malformed"
    if exc.message == "Authorization header is required":
        return "missing"
    if exc.message.startswith("Authorization must be"):
        return "malformed"
    return "missing_claim"


def issue_local_token(settings: Settings, tenant_id: str, subject: str = "operator",
                      ttl: timedelta = timedelta(days=30)) -> str:
    """A locally signed operator token (local stage and tests only)."""
    import jwt

    if not settings.jwt_secret:
        raise ValueError("FLEET_JWT_SECRET is not set")
    now = datetime.now(timezone.utc)
    claims = {
        settings.jwt_subject_claim: subject,
        settings.jwt_tenant_claim: tenant_id,
        "iat": now,
        "exp": now + ttl,
    }
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
