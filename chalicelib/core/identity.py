"""Broker identities: who a broker username is, and which topics and client id it may use.

Devices and services live in disjoint namespaces. A device's username is
`{tenant_id}.{device_id}`: ids cannot contain '.', so it always holds exactly one, it is
unique across tenants, and it names the tenant itself. Service usernames (`svc-cloud`,
`svc-bridge`, ...) contain no '.', so no device can ever be registered under one.
A device's client id is its username: a device can only ever take over its own session.
"""
from __future__ import annotations

import re

from chalicelib.core.ids import is_valid_id
from chalicelib.core.topics import device_root

SEPARATOR = "."
SERVICE_PREFIX = "svc-"
_SERVICE_RE = re.compile(r"svc-[a-z0-9-]{1,32}")
# AWS IoT's reserved topics: a device owns `$aws/things/{its thing name}/`.
AWS_THINGS = "$aws/things"


def mqtt_username(tenant_id: str, device_id: str) -> str:
    """The broker username (and client id, and AWS IoT thing name) of a device."""
    if not (is_valid_id(tenant_id) and is_valid_id(device_id)):
        raise ValueError("tenant_id and device_id must be ids")
    return f"{tenant_id}{SEPARATOR}{device_id}"


def parse_mqtt_username(username: str) -> tuple[str, str] | None:
    """(tenant_id, device_id) of a device username; None for anything else."""
    tenant_id, sep, device_id = username.partition(SEPARATOR)
    if not sep or not (is_valid_id(tenant_id) and is_valid_id(device_id)):
        return None
    return tenant_id, device_id


def is_service_username(username: str) -> bool:
    """Whether `username` is in the services' namespace (never a device's)."""
    return _SERVICE_RE.fullmatch(username) is not None


def device_topic_filters(tenant_id: str, device_id: str) -> tuple[str, ...]:
    """The topic filters a device may publish and subscribe to: its own subtrees only.

    Its project subtree, and its AWS IoT thing subtree (the thing name is the username).
    """
    return (f"{device_root(tenant_id, device_id)}/#", f"{AWS_THINGS}/{mqtt_username(tenant_id, device_id)}/#")


def device_may_use_topic(tenant_id: str, device_id: str, topic: str) -> bool:
    """Whether a device may publish to, or subscribe with, `topic` (a name or a filter).

    A filter is allowed only inside the device's subtree, so wildcards cannot reach out.
    """
    roots = [f[:-1] for f in device_topic_filters(tenant_id, device_id)]
    return any(topic.startswith(root) for root in roots) and "\x00" not in topic
