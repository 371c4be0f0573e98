"""Broker identities: a device logs in as `{tenant_id}.{device_id}`, service users have no '.'.

(Stand-in until `chalicelib/schemas/identity.py` exists on the main line; same contract.)
"""
from __future__ import annotations

import re

from chalicelib.schemas.topics import device_root

IDENTITY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def mqtt_username(tenant_id: str, device_id: str) -> str:
    """The MQTT username (and client id) of a device."""
    return f"{tenant_id}.{device_id}"


def parse_mqtt_username(username: str) -> tuple[str, str] | None:
    """(tenant_id, device_id) of a device username; None for anything else."""
    tenant_id, dot, device_id = username.partition(".")
    if not dot or not IDENTITY_ID.fullmatch(tenant_id) or not IDENTITY_ID.fullmatch(device_id):
        return None
    return tenant_id, device_id


def device_topic_filters(tenant_id: str, device_id: str) -> tuple[str, ...]:
    """The topic filters a device may publish and subscribe under."""
    return (f"{device_root(tenant_id, device_id)}/#",)
