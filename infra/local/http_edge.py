"""Malformed HTTP at the local servers (API and console): answered at once, in the API's one error shape.

`http.server` answers what it cannot parse (an overlong request line, 414; overlong or too
many header lines, 431; a garbled request line, 400) with an HTML page, and leaves the body
to each handler, where `Content-Length: -1` reads until the client hangs up. Here every such
answer is the JSON error body (chalicelib/core/http/edge.py), the connection is closed after
it, and a body is read only with one plain, non-negative `Content-Length` within the cap.
"""
from __future__ import annotations

import json
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

from chalicelib.core.http.edge import CODE_BY_STATUS, error_body

# API Gateway's own limit on a request body; the app refuses more than its configured
# `max_body_bytes` (413) below that, as deployed.
MAX_BODY_BYTES = 10 * 1024 * 1024
# The digits of the cap, and one more: a longer value is refused before int() reads it.
_MAX_LENGTH_DIGITS = len(str(MAX_BODY_BYTES)) + 1

# How long a read of a request may wait for the client (see JsonErrors.timeout).
IDLE_TIMEOUT_S = 30.0

# What http.server's parse errors are, in our words: its own messages echo the request line.
_MESSAGES = {
    400: "malformed HTTP request",
    414: "request line too long",
    431: "request header fields too large",
    505: "unsupported HTTP version",
}
_CODES = {411: "length_required", 414: "uri_too_long", 431: "headers_too_large",
          505: "http_version_not_supported"}


class BodyRefused(Exception):
    """A request body that is not read: the status to answer and why, naming the header."""

    def __init__(self, status: int, message: str, field: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def content_length(headers: Message) -> int:
    """The body's length: one plain decimal `Content-Length` (0 without one) within the cap, else BodyRefused."""
    if headers.get_all("Transfer-Encoding"):
        # Chunked bodies are not supported here (nor needed by any client of this API).
        raise BodyRefused(411, "a body needs a Content-Length (Transfer-Encoding is not supported)",
                          "Content-Length")
    values = {value.strip() for value in headers.get_all("Content-Length") or []}
    if not values:
        return 0
    if len(values) > 1:
        raise BodyRefused(400, "Content-Length: conflicting values", "Content-Length")
    (value,) = values
    if not (value.isascii() and value.isdigit()) or len(value) > _MAX_LENGTH_DIGITS:
        raise BodyRefused(400, "Content-Length: must be a non-negative decimal integer", "Content-Length")
    length = int(value)
    if length > MAX_BODY_BYTES:
        raise BodyRefused(413, f"Content-Length: the body may be at most {MAX_BODY_BYTES} bytes", "Content-Length")
    return length


class JsonErrors(BaseHTTPRequestHandler):
    """A request handler whose every error answer is the JSON error body, followed by closing the connection."""

    # A two-word request line would otherwise be HTTP/0.9, answered without a status line or headers.
    default_request_version = "HTTP/1.1"
    # Seconds any one read of a request (or an idle keep-alive connection) may wait: a client
    # that sends half its headers and goes quiet would otherwise hold a server thread for good.
    timeout: ClassVar[float | None] = IDLE_TIMEOUT_S

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's error answers, as JSON (its own messages, which echo input, are not used)."""
        status = HTTPStatus(code)
        self.refuse(code, _MESSAGES.get(code) or status.phrase.lower())

    def refuse(self, status: int, message: str, field: str | None = None) -> None:
        """Answer `status` with the error body and close the connection (any unread body is never read)."""
        body = json.dumps(error_body(status, message, _CODES.get(status) or CODE_BY_STATUS.get(status),
                                     field)).encode()
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", "") != "HEAD":
            self.wfile.write(body)

    def checked_length(self) -> int | None:
        """The request's body length, or None after answering why the body is refused."""
        try:
            return content_length(self.headers)
        except BodyRefused as refused:
            self.refuse(refused.status, refused.message, refused.field)
            return None
