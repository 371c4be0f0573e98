"""An HTTPS ACK is one conditional write: the provision token's owner is read once per process and ttl,
and a device disabled, deleted or given a new token stops being accepted (here at once, elsewhere within the ttl)."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from chalicelib.container import container
from chalicelib.core.auth.tokens import token_hash
from chalicelib.core.clock import utcnow
from chalicelib.core.errors import Unauthenticated
from chalicelib.devices.schemas import DevicePrincipal
from chalicelib.devices.seen_cache import TokenCache
from chalicelib.devices.service import DeviceService
from tests.integration.test_one_write_ack import dynamodb_calls
from tests.support import Api


def _command(api: Api, device_id: str) -> str:
    return str(api.post(f"/customer/devices/{device_id}/commands", {"command_type": "ping"}).body["command_id"])


def _ack(api: Api, token: str, command_id: str) -> int:
    return api.device_call("POST", f"/device/v1/commands/{command_id}/ack", token, {"status": "ok"}).status


def test_a_second_https_ack_of_a_device_is_one_update_item(api: Api) -> None:
    # Given a device with two queued commands, and a first HTTPS ACK that read its token and recorded presence
    device_id, token = api.create_device("https-ack")
    first, second = _command(api, device_id), _command(api, device_id)
    assert _ack(api, token, first) == 200
    # When the second ACK arrives within the token cache's ttl
    with dynamodb_calls() as counts:
        status = _ack(api, token, second)
    # Then it is applied with one conditional UpdateItem and nothing else
    assert status == 200
    assert counts == Counter({"UpdateItem": 1})
    assert api.get(f"/customer/devices/{device_id}/commands/{second}").body["status"] == "delivered"


def test_a_device_disabled_through_this_process_is_refused_over_https_at_once(api: Api) -> None:
    # Given a device whose token this process has just read (an accepted ACK)
    device_id, token = api.create_device("https-off")
    first, second = _command(api, device_id), _command(api, device_id)
    assert _ack(api, token, first) == 200
    # When the operator disables it
    assert api.post(f"/customer/devices/{device_id}/disable").status == 200
    # Then its next ACK is refused and changes nothing; enabled again, it is accepted
    assert _ack(api, token, second) == 401
    assert api.get(f"/customer/devices/{device_id}/commands/{second}").body["status"] == "queued"
    assert api.post(f"/customer/devices/{device_id}/enable").status == 200
    assert _ack(api, token, second) == 200


def test_a_rotated_token_is_refused_at_once_and_the_new_one_accepted(api: Api) -> None:
    # Given a device whose token this process has just read
    device_id, old = api.create_device("https-rot")
    first, second = _command(api, device_id), _command(api, device_id)
    assert _ack(api, old, first) == 200
    # When the operator rotates its token
    rotated = api.post(f"/customer/devices/{device_id}/token")
    assert rotated.status in (200, 201), rotated.body
    # Then the old token is refused and the new one works
    assert _ack(api, old, second) == 401
    assert _ack(api, rotated.body["provision_token"], second) == 200


def test_a_deleted_device_is_refused_at_once(api: Api) -> None:
    device_id, token = api.create_device("https-del")
    assert api.device_call("POST", "/device/v1/heartbeat", token).status == 200
    assert api.delete(f"/customer/devices/{device_id}").status in (200, 204)
    assert api.device_call("POST", "/device/v1/heartbeat", token).status == 401


def test_a_device_disabled_through_another_process_is_refused_within_the_ttl(api: Api) -> None:
    # Given two processes' registries sharing the table, one of which has read the device's token
    device_id, token = api.create_device("https-far")
    now = [utcnow()]
    c = container()
    here = DeviceService(c.device_repository, c.group_repository, clock=lambda: now[0], token_cache_s=10)
    there = DeviceService(c.device_repository, c.group_repository, clock=lambda: now[0], token_cache_s=10)
    assert here.authenticate(token).device_id == device_id
    # When the other process disables it
    there.set_enabled(api.tenant_id, device_id, False)
    # Then this process may accept it until its read is 10 s old, and refuses it from then on
    now[0] += timedelta(seconds=9)
    assert here.authenticate(token).enabled
    now[0] += timedelta(seconds=1)
    with pytest.raises(Unauthenticated, match="disabled"):
        here.authenticate(token)


def test_a_token_read_is_trusted_for_its_ttl_and_forgotten_with_its_device() -> None:
    cache = TokenCache(timedelta(seconds=10), max_entries=2)
    now = utcnow()
    principal = DevicePrincipal(tenant_id="t", device_id="d")
    cache.put(token_hash("secret-a"), principal, now)
    assert cache.get(token_hash("secret-a"), now + timedelta(seconds=9)) == principal
    assert cache.get(token_hash("secret-a"), now + timedelta(seconds=10)) is None
    cache.put(token_hash("b"), principal, now)
    cache.forget_device("t", "d")
    assert cache.get(token_hash("b"), now) is None
    assert TokenCache(timedelta(0)).get(token_hash("b"), now) is None
