"""The one error shape: framework answers are rewritten, gateway responses are declared in it."""
from __future__ import annotations

import json

from chalice import Response

from chalicelib.core.http.edge import GATEWAY_RESPONSES, gateway_response_templates, reshape


def test_framework_errors_become_the_one_shape() -> None:
    framework = Response(body={"Code": "MethodNotAllowedError", "Message": "Unsupported method: PUT"},
                         status_code=405, headers={"Allow": "GET, POST"})
    out = reshape(framework)
    assert out.status_code == 405 and out.headers["Allow"] == "GET, POST"
    assert json.loads(out.body) == {"error": "method_not_allowed", "message": "Unsupported method: PUT"}


def test_a_500_never_carries_the_trace_or_the_framework_message() -> None:
    out = reshape(Response(body="Traceback (most recent call last): secret", status_code=500,
                           headers={"Content-Type": "text/plain"}))
    assert json.loads(out.body) == {"error": "internal", "message": "internal error"}
    assert out.headers["Content-Type"] == "application/json"


def test_our_errors_and_successes_pass_unchanged() -> None:
    ours = Response(body=json.dumps({"error": "conflict", "message": "m", "field": "f"}), status_code=409)
    assert reshape(ours) is ours
    ok = Response(body={"Code": "not an error"}, status_code=200)
    assert reshape(ok) is ok


def test_gateway_responses_use_the_shape_and_hide_unknown_routes() -> None:
    templates = gateway_response_templates()
    assert set(templates) == set(GATEWAY_RESPONSES)
    assert templates["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    assert templates["UNAUTHORIZED"]["StatusCode"] == "401"
    for item in templates.values():
        body = json.loads(item["ResponseTemplates"]["application/json"])
        assert set(body) == {"error", "message"}
