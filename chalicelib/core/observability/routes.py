"""The HTTP side of observability: a correlation id per request, one access line, metrics flushed."""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.core.observability.log import CORRELATION_HEADER, begin, end, logger
from chalicelib.core.observability.metrics import metrics

bp = Blueprint(__name__)

# Polled by consoles and load balancers: their lines would drown the rest at INFO.
QUIET_PATHS = frozenset({"/health"})


@bp.middleware("http")
def correlate(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Every line of the request carries its correlation id, tenant and device; the answer names the id."""
    context = event.context or {}
    headers: Mapping[str, str] = event.headers or {}
    authorizer = context.get("authorizer") or {}
    params = event.uri_params or {}
    keys = {k: v for k, v in (("tenant", authorizer.get("tenant_id")), ("device", params.get("device_id")))
            if isinstance(v, str)}
    cid = begin(headers.get(CORRELATION_HEADER.lower()) or context.get("requestId"), **keys)
    start = time.monotonic()
    try:
        response = get_response(event)
        response.headers[CORRELATION_HEADER] = cid
        path = str(context.get("resourcePath") or event.path)
        line = logger.debug if path in QUIET_PATHS else logger.info
        status = response.status_code
        line("request", method=event.method, route=path, status=status,
             duration_ms=round((time.monotonic() - start) * 1000, 1),
             outcome="ok" if status < 400 else ("refused" if status < 500 else "error"))
        return response
    finally:
        metrics.flush()
        # The thread serves other work next (the local server's pool, tests): no keys carried over.
        end()
