"""MQTT topic names: the only place that knows their layout."""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.core.ids import is_valid_id

PREFIX = "tenant"

# The device asks for its pending commands (on connect, after sleep): the cloud republishes them.
COMMANDS_REQUEST_SUFFIX = "commands/request"
# Device-to-cloud suffixes the bridge subscribes to (relative to the device subtree).
DEVICE_TO_CLOUD = ("status", "commands/ack", COMMANDS_REQUEST_SUFFIX, "shadow/reported", "jobs/+/update")


# Boards enrolling by claim: the broker's claim plugin forwards their requests under CLAIMS_ROOT
# (`/<claim cn>/<connection nonce>/<client id>/<AWS suffix>`) and hands what the cloud publishes under
# CLAIM_REPLIES_ROOT (`/<nonce>/<client id>/<suffix>/accepted|rejected`) to that one connection.
CLAIMS_ROOT = "$fleet/claims"
CLAIM_REPLIES_ROOT = "$fleet/claim-replies"
# The credential sync closes every session of a name that stopped working with SESSION_CUTS_ROOT/<name>
# (a claim's, a certificate's, a device's), on the local broker's plugin.
SESSION_CUTS_ROOT = "$fleet/session-cuts"


def device_root(tenant_id: str, device_id: str) -> str:
    """The subtree a device owns: tenant/{tenant}/device/{device}."""
    return f"{PREFIX}/{tenant_id}/device/{device_id}"


def device_topic(tenant_id: str, device_id: str, suffix: str) -> str:
    """A topic under the device's subtree."""
    return f"{device_root(tenant_id, device_id)}/{suffix}"


def bridge_subscriptions() -> list[str]:
    """The topic filters the bridge subscribes to, one per device-to-cloud suffix, and the claim requests."""
    return [*(f"{PREFIX}/+/device/+/{suffix}" for suffix in DEVICE_TO_CLOUD), f"{CLAIMS_ROOT}/#"]


@dataclass(frozen=True)
class DeviceAddress:
    """The device a parsed topic belongs to."""

    tenant_id: str
    device_id: str


@dataclass(frozen=True)
class DeviceTopic(DeviceAddress):
    """A parsed device topic."""

    suffix: str


def parse_device_topic(topic: str) -> DeviceTopic | None:
    """Split tenant/{t}/device/{d}/{suffix}; None when it is not one of ours."""
    parts = topic.split("/")
    if len(parts) < 5 or parts[0] != PREFIX or parts[2] != "device":
        return None
    tenant_id, device_id = parts[1], parts[3]
    if not (is_valid_id(tenant_id) and is_valid_id(device_id)):
        return None
    return DeviceTopic(tenant_id, device_id, "/".join(parts[4:]))
