"""`chalice local`, with three fixes that make it behave like API Gateway here.

1. TCP_NODELAY on every accepted socket: without it a keep-alive client waits ~40 ms
   per request (Nagle against delayed ACK).
2. An authorizer raising Exception("Unauthorized") is API Gateway's way to answer 401;
   chalice local would turn it into a 500, so map it.
3. `app.current_request` is per thread. Chalice keeps it in one attribute of the app,
   which is right for Lambda (one request per process at a time) but lets chalice local's
   threads read each other's requests: a PUT handler could see a concurrent GET's
   empty body.
"""
from __future__ import annotations

import argparse
import logging
import socket
import threading
from typing import Any

from chalice import Chalice
from chalice.config import Config
from chalice.local import (
    LocalDevServer,
    LocalGatewayAuthorizer,
    NotAuthorizedError,
    ThreadedHTTPServer,
)

_patched = False


def install_gateway_fixes() -> None:
    """Make local authorizer failures answer 401 and requests thread-safe, as API Gateway (idempotent)."""
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
    Chalice.current_request = _PerThread("current_request")  # type: ignore[assignment]
    Chalice.lambda_context = _PerThread("lambda_context")  # type: ignore[assignment]
    _patched = True


class _PerThread:
    """A data descriptor keeping an instance attribute per thread (it wins over the instance dict)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._local = threading.local()

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        return getattr(self._local, f"{id(obj)}", None)

    def __set__(self, obj: Any, value: Any) -> None:
        setattr(self._local, f"{id(obj)}", value)


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
