"""Pure helpers of the foundation: tokens, cursors, topics, error mapping."""
from __future__ import annotations

import base64
import hashlib

import pytest

from chalicelib.core import errors
from chalicelib.core.auth import tokens
from chalicelib.core.http.views import STATUS_BY_ERROR, error_response
from chalicelib.core.storage.cursors import decode_cursor, encode_cursor
from chalicelib.core.topics import bridge_subscriptions, device_topic, parse_device_topic


def test_tokens_are_random_and_only_their_hash_is_a_key() -> None:
    a, b = tokens.new_token(), tokens.new_token()
    assert a != b and a.startswith("tok_") and len(a) > 40
    assert tokens.token_hash(a) == hashlib.sha256(a.encode()).hexdigest()
    assert a not in tokens.token_hash(a)


def test_mosquitto_hash_is_pbkdf2_sha512_in_mosquitto_format() -> None:
    salt = b"0123456789ab"
    line = tokens.mosquitto_password_hash("secret", salt)
    _, kind, rounds, salt_b64, digest_b64 = line.split("$")
    assert (kind, rounds) == ("7", "101")
    assert base64.b64decode(salt_b64) == salt
    assert base64.b64decode(digest_b64) == hashlib.pbkdf2_hmac("sha512", b"secret", salt, 101)


def test_cursor_round_trips_within_its_partition() -> None:
    key = {"tenant_id": {"S": "acme"}, "device_id": {"S": "d7"}}
    token = encode_cursor(key)
    assert token is not None
    assert decode_cursor(token, partition=("tenant_id", "acme"), keys={"tenant_id", "device_id"}) == key


@pytest.mark.parametrize("token", ["%%%", "bm90IGpzb24", encode_cursor({"tenant_id": {"S": "other"}})])
def test_foreign_or_garbage_cursor_is_invalid_input(token: str) -> None:
    with pytest.raises(errors.InvalidInput) as exc:
        decode_cursor(token, partition=("tenant_id", "acme"), keys={"tenant_id", "device_id"})
    assert exc.value.field == "next_token"


def test_topics_round_trip_and_reject_foreign_shapes() -> None:
    topic = device_topic("acme", "cam-1", "commands/ack")
    parsed = parse_device_topic(topic)
    assert parsed is not None
    assert (parsed.tenant_id, parsed.device_id, parsed.suffix) == ("acme", "cam-1", "commands/ack")
    assert parse_device_topic("tenant/acme/devices/cam-1/x") is None
    assert parse_device_topic("tenant/acme/device/cam-1") is None
    assert "tenant/+/device/+/commands/ack" in bridge_subscriptions()


def test_every_domain_error_maps_to_a_4xx_or_503_with_its_field() -> None:
    for cls, status in STATUS_BY_ERROR.items():
        resp = error_response(cls("boom", field="f"))
        assert resp.status_code == status and (400 <= status < 500 or status == 503)
        assert '"field":"f"' in resp.body
