"""The operator console on loopback: frontend/dist as static files, the API proxied beside it.

Serving both from one origin means the browser needs no CORS and the console needs no
configuration: it calls `/customer/...` on its own origin. `make run` (and `make console`)
build frontend/dist first; without a build the stack runs without the console.

The console URL carries the operator token in its fragment (`#token=...`): browsers never
send a fragment to a server, and this server logs nothing about requests anyway, so the
token appears in no log.
"""
from __future__ import annotations

import http.client
import logging
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from infra.local.http_edge import JsonErrors

log = logging.getLogger("console")
ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "frontend" / "dist"
API_PREFIXES = ("/customer/", "/health")
# Request and response headers the proxy passes on; everything else stays behind.
FORWARD_REQUEST = ("authorization", "content-type", "accept")
FORWARD_RESPONSE = ("content-type", "x-next-token")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def content_security_policy(upload_origin: str = "") -> str:
    """Everything from the console's origin; firmware uploads also go straight to the object store."""
    connect = f"'self' {upload_origin}".strip()
    return (f"default-src 'self'; img-src 'self' data:; style-src 'self'; connect-src {connect}; "
            "frame-ancestors 'none'; base-uri 'none'")


class ConsoleHandler(JsonErrors, SimpleHTTPRequestHandler):
    """Static files with a single-page-app fallback, and a pass-through to the API; errors in the API's shape."""

    api: tuple[str, int] = ("127.0.0.1", 8000)
    csp: str = content_security_policy()

    def log_message(self, format: str, *args: Any) -> None:
        """Request lines are not logged: paths may carry ids, and nothing here needs them."""

    proxying = False

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", self.csp)
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        if not self.proxying:
            # index.html must be re-read after a rebuild; hashed assets never change. (An
            # unparsable request has no path.)
            immutable = getattr(self, "path", "").startswith("/assets/")
            self.send_header("Cache-Control", "public, max-age=31536000, immutable" if immutable else "no-cache")
        super().end_headers()

    def _is_api(self) -> bool:
        return self.path.startswith(API_PREFIXES)

    def do_GET(self) -> None:
        if self._is_api():
            return self._proxy()
        path = urlsplit(self.path).path
        if not path.startswith("/assets/") and not Path(self.translate_path(path)).is_file():
            self.path = "/index.html"  # a client-side route: the app decides what to show
        return super().do_GET()

    def do_POST(self) -> None:
        self._proxy_or_405()

    def do_PUT(self) -> None:
        self._proxy_or_405()

    def do_PATCH(self) -> None:
        self._proxy_or_405()

    def do_DELETE(self) -> None:
        self._proxy_or_405()

    def _proxy_or_405(self) -> None:
        if self._is_api():
            self._proxy()
        else:
            self.send_error(405)

    def _proxy(self) -> None:
        length = self.checked_length()
        if length is None:
            return
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() in FORWARD_REQUEST}
        conn = http.client.HTTPConnection(*self.api, timeout=60)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            upstream = conn.getresponse()
            data = upstream.read()
        except OSError:
            self.send_error(502, "API unreachable")
            return
        finally:
            conn.close()
        self.proxying = True
        self.send_response(upstream.status)
        for name, value in upstream.getheaders():
            if name.lower() in FORWARD_RESPONSE:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)


class ConsoleServer:
    """The console's HTTP server on its own thread; stop() shuts it down."""

    def __init__(self, dist: Path, api_url: str, port: int, host: str = "127.0.0.1", upload_origin: str = "") -> None:
        api = urlsplit(api_url)
        handler = type("BoundConsoleHandler", (ConsoleHandler,), {"api": (api.hostname or host, api.port or 80),
                                                                   "csp": content_security_policy(upload_origin)})
        self.server = ThreadingHTTPServer((host, port), partial(handler, directory=str(dist)))
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="console", daemon=True)

    def start(self) -> ConsoleServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def console_url(base_url: str, token: str) -> str:
    """The URL that opens the console signed in: the token rides in the fragment."""
    return f"{base_url}/#token={token}"


def start_console(stack: Any, info: dict[str, Any], dist: Path = DIST) -> ConsoleServer | None:
    """Serve the built console next to the stack's API; adds `console_url` to `info`.

    The server joins the stack's threads, so stopping the stack stops it.
    """
    if not (dist / "index.html").is_file():
        log.warning("no console build in %s: run `make console` (make run builds it)", dist)
        return None
    server = ConsoleServer(dist, stack.api_url, stack.o.console_port, upload_origin=stack.o.s3_url).start()
    stack._threads.append(server)
    info["console_url"] = console_url(server.url, info["operator_token"])
    return server
