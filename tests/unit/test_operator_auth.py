"""Operator JWT verification: HS256 locally, RS256 against a JWKS URL."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from chalice.app import Request
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.core.auth.operator import OperatorAuthenticator, issue_local_token
from chalicelib.core.auth.routes import operator
from chalicelib.core.config import Settings, get_settings
from chalicelib.core.errors import Unauthenticated

SECRET = "unit-test-secret-with-enough-length-for-hs256"


def _hs(claims: dict, secret: str = SECRET) -> str:
    return "Bearer " + jwt.encode(claims, secret, algorithm="HS256")


def _future() -> datetime:
    return datetime.now(timezone.utc) + timedelta(minutes=5)


def test_local_token_yields_tenant_and_subject() -> None:
    settings = Settings(jwt_secret=SECRET)
    principal = OperatorAuthenticator(settings).verify("Bearer " + issue_local_token(settings, "acme", "alice"))
    assert (principal.tenant_id, principal.subject) == ("acme", "alice")


@pytest.mark.parametrize("header", [
    None,
    "",
    "Basic abc",
    "Bearer",
    "Bearer not.a.jwt",
    _hs({"sub": "a", "tenant_id": "acme", "exp": datetime.now(timezone.utc) - timedelta(seconds=5)}),
    _hs({"sub": "a", "tenant_id": "acme", "exp": _future()}, secret="another-secret-another-secret-xx"),
    _hs({"sub": "a", "exp": _future()}),
    _hs({"sub": "a", "tenant_id": "bad/tenant", "exp": _future()}),
    _hs({"tenant_id": "acme", "exp": _future()}),
    _hs({"sub": "a", "tenant_id": "acme"}),
])
def test_invalid_credentials_are_unauthenticated(header: str | None) -> None:
    with pytest.raises(Unauthenticated):
        OperatorAuthenticator(Settings(jwt_secret=SECRET)).verify(header)


def test_claim_names_are_configurable() -> None:
    settings = Settings(jwt_secret=SECRET, jwt_tenant_claim="custom:tenant_id", jwt_subject_claim="username")
    token = _hs({"username": "bob", "custom:tenant_id": "acme", "exp": _future()})
    assert OperatorAuthenticator(settings).verify(token).tenant_id == "acme"


def test_none_algorithm_is_refused() -> None:
    token = jwt.encode({"sub": "a", "tenant_id": "acme", "exp": _future()}, key="", algorithm="none")
    with pytest.raises(Unauthenticated):
        OperatorAuthenticator(Settings(jwt_secret=SECRET)).verify(f"Bearer {token}")


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, rsa.RSAPrivateKey]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", key
    server.shutdown()


def test_rs256_tokens_verify_against_jwks(jwks_server: tuple[str, rsa.RSAPrivateKey]) -> None:
    url, key = jwks_server
    settings = Settings(jwt_jwks_url=url, jwt_algorithms="RS256", jwt_issuer="https://issuer.example",
                        jwt_audience="fleet")
    claims = {"sub": "u1", "tenant_id": "acme", "exp": _future(), "iss": "https://issuer.example", "aud": "fleet"}
    good = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    assert OperatorAuthenticator(settings).verify(f"Bearer {good}").tenant_id == "acme"
    wrong_aud = jwt.encode({**claims, "aud": "other"}, key, algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(Unauthenticated):
        OperatorAuthenticator(settings).verify(f"Bearer {wrong_aud}")
    # An HS256 token signed with the public key must not pass (algorithm confusion).
    with pytest.raises(Unauthenticated):
        OperatorAuthenticator(settings).verify(_hs(claims, secret="whatever-secret-whatever-secret-xyz"))


def _request(headers: dict[str, str], authorizer: dict[str, str] | None) -> Request:
    context: dict[str, object] = {"httpMethod": "GET", "resourcePath": "/customer/devices"}
    if authorizer is not None:
        context["authorizer"] = authorizer
    return Request({"multiValueQueryStringParameters": None, "headers": headers, "pathParameters": None,
                    "requestContext": context, "stageVariables": None, "body": None})


@pytest.fixture
def stage_secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("FLEET_JWT_SECRET", SECRET)
    get_settings.cache_clear()
    yield Settings(jwt_secret=SECRET)
    get_settings.cache_clear()


def test_the_operator_comes_from_the_authorizer_context_when_it_ran(stage_secret: Settings) -> None:
    principal = operator(_request({}, {"tenant_id": "acme", "sub": "alice", "principalId": "alice"}))
    assert (principal.tenant_id, principal.subject) == ("acme", "alice")


def test_without_an_authorizer_context_the_function_checks_the_token_itself(stage_secret: Settings) -> None:
    # A gateway that skipped the authorizer (LocalStack Community runs none) lets nobody through untokened.
    token = issue_local_token(stage_secret, "acme", "alice")
    principal = operator(_request({"Authorization": f"Bearer {token}"}, None))
    assert (principal.tenant_id, principal.subject) == ("acme", "alice")
    for headers in ({}, {"Authorization": "Bearer " + token[:-4] + "AAAA"}, {"Authorization": token}):
        with pytest.raises(Unauthenticated):
            operator(_request(headers, {}))
