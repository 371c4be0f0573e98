"""An MQTT ACK is one conditional write: the device's status and presence are read once per process and ttl."""
from __future__ import annotations

import base64
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from chalice.test import Client

from chalicelib.commands.models import CommandModel
from chalicelib.core.clock import utcnow
from chalicelib.devices.models import DeviceModel
from chalicelib.devices.schemas import DeviceStatus
from chalicelib.devices.seen_cache import PresenceCache, Seen
from tests.support import Api


@contextmanager
def dynamodb_calls() -> Iterator[Counter[str]]:
    """DynamoDB requests made on this thread inside the block, by operation."""
    counts: Counter[str] = Counter()
    me = threading.get_ident()

    def count(model: Any, **kwargs: Any) -> None:
        if threading.get_ident() == me:
            counts[model.name] += 1

    clients = {id(c): c for c in (m._get_connection().connection.client for m in (CommandModel, DeviceModel))}
    for client in clients.values():
        client.meta.events.register("before-call.dynamodb", count)
    try:
        yield counts
    finally:
        for client in clients.values():
            client.meta.events.unregister("before-call.dynamodb", count)


def _ack(client: Client, tenant_id: str, device_id: str, command_id: str) -> dict[str, Any]:
    payload = json.dumps({"command_id": command_id, "status": "ok"}).encode()
    event = {"topic": f"tenant/{tenant_id}/device/{device_id}/commands/ack",
             "payload_b64": base64.b64encode(payload).decode()}
    return dict(client.lambda_.invoke("device_message", event).payload)


def test_a_second_mqtt_ack_of_a_device_is_one_update_item(api: Api, chalice_client: Client) -> None:
    # Given a device with two queued commands, and a first ACK that read the device
    device_id, _ = api.create_device("cam-ack")
    ids = [api.post(f"/customer/devices/{device_id}/commands", {"command_type": "ping"}).body["command_id"]
           for _ in range(2)]
    assert _ack(chalice_client, api.tenant_id, device_id, ids[0])["accepted"]
    # When the second ACK arrives within the presence ttl
    with dynamodb_calls() as counts:
        outcome = _ack(chalice_client, api.tenant_id, device_id, ids[1])
    # Then it is applied with one conditional UpdateItem and nothing else
    assert outcome["accepted"], outcome
    assert counts == Counter({"UpdateItem": 1})
    assert api.get(f"/customer/devices/{device_id}/commands/{ids[1]}").body["status"] == "delivered"


def test_a_device_disabled_through_this_process_is_refused_at_once(api: Api, chalice_client: Client) -> None:
    # Given a device whose status this process has just read (an accepted ACK)
    device_id, _ = api.create_device("cam-off")
    ids = [api.post(f"/customer/devices/{device_id}/commands", {"command_type": "ping"}).body["command_id"]
           for _ in range(2)]
    assert _ack(chalice_client, api.tenant_id, device_id, ids[0])["accepted"]
    # When the operator disables it
    assert api.post(f"/customer/devices/{device_id}/disable").status == 200
    # Then its next message is refused and changes nothing
    assert not _ack(chalice_client, api.tenant_id, device_id, ids[1])["accepted"]
    assert api.get(f"/customer/devices/{device_id}/commands/{ids[1]}").body["status"] == "queued"


def test_a_read_is_trusted_for_its_ttl_only_and_the_cache_stays_bounded() -> None:
    now = utcnow()
    cache = PresenceCache(timedelta(seconds=30), max_entries=2)
    cache.put("t", "a", Seen(DeviceStatus.ACTIVE, None, now))
    assert cache.get("t", "a", now + timedelta(seconds=29)) is not None
    assert cache.get("t", "a", now + timedelta(seconds=30)) is None
    cache.put("t", "b", Seen(DeviceStatus.ACTIVE, None, now))
    cache.put("t", "c", Seen(DeviceStatus.ACTIVE, None, now))
    assert cache.get("t", "a", now) is None and cache.get("t", "c", now) is not None
    assert PresenceCache(timedelta(0)).get("t", "a", now) is None


def test_an_sqs_batch_of_acks_is_applied_and_its_poison_message_dropped(api: Api, chalice_client: Client) -> None:
    # Given two queued commands of a device, and a batch from the topic rule's queue with a poison message between
    device_id, _ = api.create_device("cam-batch")
    ids = [api.post(f"/customer/devices/{device_id}/commands", {"command_type": "ping"}).body["command_id"]
           for _ in range(2)]
    bodies = [json.dumps({"topic": f"tenant/{api.tenant_id}/device/{device_id}/commands/ack",
                          "payload_b64": base64.b64encode(json.dumps({"command_id": c, "status": "ok"}).encode())
                          .decode()}) for c in ids]
    records = [{"messageId": f"m-{i}", "receiptHandle": "r", "body": body, "attributes": {}, "messageAttributes": {},
                "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
                "awsRegion": "us-east-1"} for i, body in enumerate([bodies[0], '{"topic": 5}', bodies[1]])]
    # When the function gets the batch
    answer = chalice_client.lambda_.invoke("device_message", {"Records": records}).payload
    # Then nothing is sent back for a retry, and both ACKs were applied
    assert answer == {"batchItemFailures": []}
    for command_id in ids:
        assert api.get(f"/customer/devices/{device_id}/commands/{command_id}").body["status"] == "delivered"
