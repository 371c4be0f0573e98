"""The bridge's JSON logs and EMF metrics, and what it reads from a message to label them.

A device that echoes the command's correlation id in its ACK (`correlation_id` in the
payload) puts the forward, and the function's handling of it, into the command's trace;
any other message gets a fresh id, which the function's lines carry too.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
from typing import Any

from chalicelib.core.observability.log import clean_correlation_id, make_logger
from chalicelib.core.observability.metrics import MetricSink

SERVICE = "mqtt-bridge"

logger = make_logger(SERVICE)
metrics = MetricSink(SERVICE)

# Only payloads that may name an id are parsed, and only small ones: the bridge stays a pipe.
_PARSE_MAX_BYTES = 16 * 1024
_ID_KEYS = ("correlation_id", "command_id", "clientToken")


def message_keys(topic: str, payload: bytes) -> dict[str, Any]:
    """correlation_id (echoed or fresh), tenant, device and the command or job id of one message."""
    keys: dict[str, Any] = {}
    parts = topic.split("/")
    if len(parts) >= 4 and parts[0] == "tenant" and parts[2] == "device":
        keys.update(tenant=parts[1], device=parts[3])
        if len(parts) >= 7 and parts[4] == "jobs":
            keys["job_id"] = parts[5]
    elif len(parts) >= 3 and parts[0] == "$aws" and parts[1] == "things":
        keys["thing"] = parts[2]
    found = _payload_ids(payload)
    keys["correlation_id"] = clean_correlation_id(found.get("correlation_id")) or _mint()
    if isinstance(found.get("command_id"), str):
        keys["command_id"] = found["command_id"][:64]
    return keys


class _Minter:
    """Correlation ids for messages that bring none: a per-process keyed hash of a counter.

    uuid4 per message cost the bridge a system call (os.urandom) per message at thousands a second;
    a counter in clear would not do either: a device that comes back gets its pending commands with
    its message's id as MQTT 5 correlation data, and would read from it how many messages (of every
    tenant) the bridge handled since, and the ids it mints next. A keyed BLAKE2b of the counter is
    unique (128 bits), reveals neither, and costs no system call. A forked child draws a key of its own.
    """

    def __init__(self) -> None:
        self.reseed()

    def reseed(self) -> None:
        self._key = os.urandom(32)
        self._counter = itertools.count()

    def __call__(self) -> str:
        # next() on itertools.count is atomic under the GIL: the lanes share one minter.
        n = next(self._counter)
        return hashlib.blake2b(n.to_bytes(16, "big"), key=self._key, digest_size=16).hexdigest()


_mint = _Minter()
os.register_at_fork(after_in_child=_mint.reseed)


def _payload_ids(payload: bytes) -> dict[str, Any]:
    if len(payload) > _PARSE_MAX_BYTES or not any(k.encode() in payload for k in _ID_KEYS):
        return {}
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}
