"""The one edge every route is registered through: caller, path ids, body limit, error table."""
from __future__ import annotations

import json

from chalice import Blueprint, Chalice, Response
from chalice.app import Request
from chalice.test import Client
from pydantic import BaseModel

from chalicelib.core import errors
from chalicelib.core.config import get_settings
from chalicelib.core.http.route import Auth, Call, route
from chalicelib.core.http.views import json_response

bp = Blueprint(__name__)


class Note(BaseModel):
    text: str


def _caller(request: Request) -> str:
    name = request.headers.get("x-caller") if request.headers else None
    if not name:
        raise errors.Unauthenticated("who are you?")
    return name


CALLER: Auth[str] = Auth(principal=_caller)


@route(bp, "/things/{thing_id}", "POST", auth=CALLER)
def add_note(call: Call[str], thing_id: str) -> Response:
    return json_response({"by": call.principal, "thing_id": thing_id, "text": call.body(Note).text}, 201)


@route(bp, "/things/{thing_id}", "DELETE", auth=CALLER)
def remove(call: Call[str], thing_id: str) -> Response:
    raise errors.Conflict("still in use", field="thing_id")


@route(bp, "/boom", "GET")
def boom(call: Call[None]) -> Response:
    raise RuntimeError("secret detail")


# Registered once: Chalice consumes a blueprint's route options when it registers them.
app = Chalice(app_name="edge-test")
app.register_blueprint(bp)


def _client() -> Client:
    return Client(app)


def _post(client: Client, path: str, body: bytes, caller: str = "ana") -> tuple[int, dict[str, object]]:
    resp = client.http.post(path, body=body, headers={"Content-Type": "application/json", "X-Caller": caller})
    return resp.status_code, json.loads(resp.body)


def test_the_view_gets_its_caller_and_its_parsed_body() -> None:
    with _client() as client:
        status, body = _post(client, "/things/t-1", b'{"text": "hi"}')
    assert status == 201 and body == {"by": "ana", "thing_id": "t-1", "text": "hi"}


def test_a_missing_caller_is_401_before_the_body_is_read() -> None:
    with _client() as client:
        status, body = _post(client, "/things/t-1", b"not json", caller="")
    assert status == 401 and body["error"] == "unauthenticated"


def test_a_malformed_path_id_is_404_naming_it() -> None:
    with _client() as client:
        status, body = _post(client, "/things/NOT%20AN%20ID", b'{"text": "hi"}')
    assert status == 404 and body["field"] == "thing_id"


def test_a_body_over_the_stage_limit_is_413_and_a_bad_field_400() -> None:
    too_big = json.dumps({"text": "x" * (get_settings().http.max_body_bytes + 1)}).encode()
    with _client() as client:
        big_status, big = _post(client, "/things/t-1", too_big)
        bad_status, bad = _post(client, "/things/t-1", b'{"text": 5}')
    assert big_status == 413 and big["error"] == "payload_too_large"
    assert bad_status == 400 and bad["field"] == "text"


def test_domain_errors_go_through_the_one_table() -> None:
    with _client() as client:
        resp = client.http.delete("/things/t-1", headers={"X-Caller": "ana"})
    assert resp.status_code == 409 and json.loads(resp.body)["field"] == "thing_id"


def test_anything_else_is_a_bare_500() -> None:
    with _client() as client:
        resp = client.http.get("/boom")
    body = json.loads(resp.body)
    assert resp.status_code == 500 and body["error"] == "internal" and "secret" not in resp.body.decode()
