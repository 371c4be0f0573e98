"""GET /openapi.json (the contract, generated from the routes) and GET /docs (Swagger UI), without auth.

The Swagger UI files come from a pinned PyPI package installed with the function, so the
page loads nothing from a CDN. Every URL in the page is relative, so it works under an
API Gateway stage prefix too.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

from chalice import Blueprint, Response

from chalicelib.core import errors
from chalicelib.core.http.route import PUBLIC, Call, route

bp = Blueprint(__name__)

ASSETS = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8"}
PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Fleet control plane API</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true});
  </script>
</body>
</html>
"""


@functools.cache
def _document_text(routes_key: tuple[tuple[str, tuple[str, ...]], ...], version: str) -> str:
    # The builder imports every feature's response models: only this route pays for them.
    from chalicelib.apidocs.builder import build_document

    return json.dumps(build_document(dict(routes_key), version), separators=(",", ":"))


@functools.cache
def _asset(name: str) -> str:
    from swagger_ui_bundle import swagger_ui_path  # the pinned package's files

    return (Path(str(swagger_ui_path)) / name).read_text(encoding="utf-8")


@route(bp, "/openapi.json", "GET", auth=PUBLIC)
def openapi_document(call: Call[None]) -> Response:
    from chalicelib.core.config import get_settings

    routes = bp.current_app.routes
    key = tuple(sorted((path, tuple(sorted(methods))) for path, methods in routes.items()))
    return Response(body=_document_text(key, get_settings().version),
                    headers={"Content-Type": "application/json"})


@route(bp, "/docs", "GET", auth=PUBLIC)
def docs_page(call: Call[None]) -> Response:
    return Response(body=PAGE, headers={"Content-Type": "text/html; charset=utf-8"})


@route(bp, "/docs/{asset}", "GET", auth=PUBLIC)
def docs_asset(call: Call[None], asset: str) -> Response:
    if asset not in ASSETS:
        raise errors.NotFound(f"no asset {asset!r}", field="asset")
    return Response(body=_asset(asset), headers={"Content-Type": ASSETS[asset],
                                                 "Cache-Control": "public, max-age=86400"})
