"""`chalice local`, with two fixes that make it behave like API Gateway here.

1. TCP_NODELAY on every accepted socket: without it a keep-alive client waits ~40 ms
   per request (Nagle against delayed ACK).
2. An authorizer raising Exception("Unauthorized") is API Gateway's way to answer 401;
   chalice local would turn it into a 500, so map it.
3. `current_request` per thread, as `chalice local` itself sets up: the server is threaded,
   and a view that reads the request after a database call would otherwise see another
   thread's request (its body, its caller).
"""
from __future__ import annotations

import argparse
import logging
import socket
from typing import Any

from chalice.config import Config
from chalice.local import (
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    LocalGatewayAuthorizer,
    NotAuthorizedError,
    ThreadedHTTPServer,
)

_patched = False


def install_gateway_fixes() -> None:
    """Make local authorizer failures answer 401 as API Gateway does (idempotent)."""
    global _patched
    if _patched:
        return
    original = LocalGatewayAuthorizer.authorize

    def authorize(self: LocalGatewayAuthorizer, raw_path: str, lambda_event: Any, lambda_context: Any) -> Any:
        try:
            return original(self, raw_path, lambda_event, lambda_context)
        except Exception as exc:
            if type(exc) is Exception and exc.args == ("Unauthorized",):
                raise NotAuthorizedError(
                    {"x-amzn-RequestId": lambda_context.aws_request_id,
                     "x-amzn-ErrorType": "UnauthorizedException"},
                    b'{"message":"Unauthorized"}',
                ) from exc
            raise

    LocalGatewayAuthorizer.authorize = authorize  # type: ignore[method-assign]
    _patched = True


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
    return LocalDevServer(app, config, host, port, server_cls=NoDelayHTTPServer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    server = make_server(args.host, args.port)
    server.serve_forever()


if __name__ == "__main__":
    main()
