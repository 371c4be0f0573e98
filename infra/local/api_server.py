"""`chalice local`, with two fixes that make it behave like API Gateway here.

1. TCP_NODELAY on every accepted socket: without it a keep-alive client waits ~40 ms
   per request (Nagle against delayed ACK).
2. An authorizer raising Exception("Unauthorized") is API Gateway's way to answer 401;
   chalice local would turn it into a 500, so map it.
3. Everything the gateway answers by itself has the API's one error shape (the table in
   chalicelib/core/http/edge.py, which the deployed gateway responses use too): a 401 says why,
   and an unknown path is a 404 that, unlike chalice local's 403, does not echo the
   Authorization header back.
4. `current_request` per thread, as `chalice local` itself sets up: the server is threaded,
   and a view that reads the request after a database call would otherwise see another
   thread's request (its body, its caller).
5. Malformed HTTP (an overlong request line or headers, a bad or negative `Content-Length`,
   a body over the gateway's limit) is answered at once in the same error shape
   (infra/local/http_edge.py), never as an HTML page or by waiting for bytes that never come.
"""
from __future__ import annotations

import argparse
import json
import socket
from typing import Any

from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    LocalGateway,
    LocalGatewayAuthorizer,
    LocalGatewayException,
    NotAuthorizedError,
    ThreadedHTTPServer,
)

from chalicelib.core.errors import DomainError
from chalicelib.core.http.edge import GATEWAY_RESPONSES, error_body
from chalicelib.core.observability.log import configure_process
from infra.local.http_edge import JsonErrors, content_length

_patched = False


class RouteNotFoundError(LocalGatewayException):
    """An unknown path: API Gateway's MISSING_AUTHENTICATION_TOKEN, answered as a 404."""

    CODE = 404


def _gateway_body(kind: str, message: str | None = None) -> bytes:
    status, code, default = GATEWAY_RESPONSES[kind]
    return json.dumps(error_body(status, message or default, code)).encode()


def _unauthorized(exc: BaseException, headers: dict[str, str]) -> NotAuthorizedError:
    cause = exc.__cause__
    message = cause.message if isinstance(cause, DomainError) else None
    return NotAuthorizedError(headers, _gateway_body("UNAUTHORIZED", message))


def _reshaped(exc: LocalGatewayException) -> LocalGatewayException:
    """The gateway's own error in our shape; an unknown path becomes a 404 that echoes nothing."""
    body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else str(exc.body)
    if '"error"' in body:
        return exc
    headers = dict(exc.headers)
    if "Missing Authentication Token" in body or "Authorization header requires" in body:
        return RouteNotFoundError(headers, _gateway_body("MISSING_AUTHENTICATION_TOKEN"))
    if isinstance(exc, NotAuthorizedError):
        return NotAuthorizedError(headers, _gateway_body("UNAUTHORIZED", "Authorization header is required"))
    reshaped = LocalGatewayException(headers, _gateway_body("ACCESS_DENIED"))
    reshaped.CODE = exc.CODE
    return reshaped


def install_gateway_fixes() -> None:
    """Make local gateway answers behave as the deployed API Gateway's (idempotent)."""
    global _patched
    if _patched:
        return
    original = LocalGatewayAuthorizer.authorize
    original_handle = LocalGateway.handle_request

    def authorize(self: LocalGatewayAuthorizer, raw_path: str, lambda_event: Any, lambda_context: Any) -> Any:
        try:
            return original(self, raw_path, lambda_event, lambda_context)
        except Exception as exc:
            if type(exc) is Exception and exc.args == ("Unauthorized",):
                raise _unauthorized(exc, {"x-amzn-RequestId": lambda_context.aws_request_id,
                                          "x-amzn-ErrorType": "UnauthorizedException"}) from exc
            raise

    def handle_request(self: LocalGateway, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        try:
            return original_handle(self, method, path, headers, body)
        except LocalGatewayException as exc:
            reshaped = _reshaped(exc)
            if reshaped is exc:
                raise
            raise reshaped from exc

    LocalGatewayAuthorizer.authorize = authorize  # type: ignore[method-assign]
    LocalGateway.handle_request = handle_request  # type: ignore[method-assign]
    _patched = True


class AnyMethodHandler(JsonErrors, ChaliceRequestHandler):
    """Every HTTP method reaches the app, which answers an unsupported one with a JSON 405.

    http.server answers a verb it has no `do_` method for with its own HTML 501.
    """

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    def _generic_handle(self) -> None:
        if self.checked_length() is not None:
            super()._generic_handle()

    # chalice local binds these to its own _generic_handle.
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def _parse_payload(self) -> tuple[dict[str, Any], bytes | None]:
        # chalice local's int() of the header would take "-1" or "+5"; _generic_handle has vetted it.
        length = content_length(self.headers)
        return dict(self.headers), self.rfile.read(length) if length else None


class NoDelayHTTPServer(ThreadedHTTPServer):
    """The threaded server chalice local uses, answering without the Nagle stall."""

    request_queue_size = 128

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr


def make_server(host: str, port: int) -> LocalDevServer:
    """Build the local API server for app.py's Chalice app."""
    install_gateway_fixes()
    from app import app

    if not isinstance(app, LocalChalice):
        # What chalice.local.create_local_server does: a thread-local current_request.
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    config = Config.create(chalice_stage="local", app_name=app.app_name)
    return LocalDevServer(app, config, host, port, handler_cls=AnyMethodHandler, server_cls=NoDelayHTTPServer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    # JSON lines, ours at FLEET_LOG_LEVEL, the libraries' (werkzeug-style access lines aside) at WARNING.
    configure_process()
    server = make_server(args.host, args.port)
    server.serve_forever()


if __name__ == "__main__":
    main()
