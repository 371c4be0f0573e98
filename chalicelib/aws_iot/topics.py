"""AWS IoT reserved topics (`$aws/things/{thing}/shadow/...`, `.../jobs/...`): the only place that knows them.

A device's thing name is its broker username, `{tenant_id}.{device_id}`; the topic
therefore names the tenant itself, and the broker's ACL keeps each device inside
`$aws/things/{its own thing name}/`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.core.identity import AWS_THINGS, mqtt_username, parse_mqtt_username
from chalicelib.core.topics import DeviceAddress

AWS_ROOT = AWS_THINGS
# Routing suffixes handed to the device-message router: never a project topic suffix.
SHADOW_ROUTE = "$aws/shadow"
JOBS_ROUTE = "$aws/jobs"
SHADOW_OPERATIONS = ("get", "update", "delete")
# AWS: shadow names are letters, digits, ':', '_' and '-', at most 64 characters.
_SHADOW_NAME_RE = re.compile(r"[A-Za-z0-9:_-]{1,64}")
# AWS job ids; the project's are ULIDs. '$next' is AWS's alias for the next pending one.
_JOB_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
NEXT_JOB = "$next"


def thing_name(tenant_id: str, device_id: str) -> str:
    """The device's AWS IoT thing name: its broker username."""
    return mqtt_username(tenant_id, device_id)


def thing_root(tenant_id: str, device_id: str) -> str:
    """`$aws/things/{thing}`: the AWS subtree the device owns."""
    return f"{AWS_ROOT}/{thing_name(tenant_id, device_id)}"


def is_shadow_name(name: str) -> bool:
    """Whether `name` is a valid named-shadow name."""
    return _SHADOW_NAME_RE.fullmatch(name) is not None


def is_job_id(job_id: str) -> bool:
    """Whether `job_id` is a job id AWS would issue (`$next` is not one)."""
    return _JOB_ID_RE.fullmatch(job_id) is not None


def _answerable(segment: str) -> bool:
    # A topic level the answer can be published under: a request on a malformed name or job
    # id is still answered on its own `/rejected` topic, as AWS does; a wildcard or NUL (which
    # no valid publish carries) could not be.
    return not any(c in segment for c in "+#\x00")


def shadow_prefix(tenant_id: str, device_id: str, shadow: str | None) -> str:
    """`$aws/things/{thing}/shadow` (classic) or `.../shadow/name/{shadow}` (named)."""
    base = f"{thing_root(tenant_id, device_id)}/shadow"
    return base if shadow is None else f"{base}/name/{shadow}"


def jobs_prefix(tenant_id: str, device_id: str) -> str:
    """`$aws/things/{thing}/jobs`."""
    return f"{thing_root(tenant_id, device_id)}/jobs"


def bridge_subscriptions() -> list[str]:
    """The device-to-cloud request topics the bridge forwards (never an answer topic)."""
    shadow = [f"{AWS_ROOT}/+/shadow/{op}" for op in SHADOW_OPERATIONS]
    named = [f"{AWS_ROOT}/+/shadow/name/+/{op}" for op in SHADOW_OPERATIONS]
    jobs = [f"{AWS_ROOT}/+/jobs/get", f"{AWS_ROOT}/+/jobs/start-next", f"{AWS_ROOT}/+/jobs/+/get",
            f"{AWS_ROOT}/+/jobs/+/update"]
    return shadow + named + jobs


@dataclass(frozen=True)
class AwsTopic(DeviceAddress):
    """A parsed AWS request topic; `route` is what the device-message router dispatches on."""

    route: str


def parse_aws_topic(topic: str) -> AwsTopic | None:
    """Split `$aws/things/{thing}/...`; None when it is not a request topic of a device.

    Routes: `$aws/shadow/{op}`, `$aws/shadow/name/{shadow}/{op}`, `$aws/jobs/get`,
    `$aws/jobs/start-next`, `$aws/jobs/{job_id}/get`, `$aws/jobs/{job_id}/update`. The shadow
    name and the job id are not checked here: the service answers a malformed one on the
    request's `/rejected` topic (AWS's SDKs wait for that answer), before it touches anything.
    """
    parts = topic.split("/")
    if len(parts) < 5 or parts[0] != "$aws" or parts[1] != "things":
        return None
    ids = parse_mqtt_username(parts[2])
    if ids is None:
        return None
    rest = parts[3:]
    route: str | None = None
    if rest[0] == "shadow":
        if len(rest) == 2 and rest[1] in SHADOW_OPERATIONS:
            route = f"{SHADOW_ROUTE}/{rest[1]}"
        elif len(rest) == 4 and rest[1] == "name" and _answerable(rest[2]) and rest[3] in SHADOW_OPERATIONS:
            route = f"{SHADOW_ROUTE}/name/{rest[2]}/{rest[3]}"
    elif rest[0] == "jobs":
        if len(rest) == 2 and rest[1] in ("get", "start-next"):
            route = f"{JOBS_ROUTE}/{rest[1]}"
        elif len(rest) == 3 and rest[2] in ("get", "update") and _answerable(rest[1]):
            route = f"{JOBS_ROUTE}/{rest[1]}/{rest[2]}"
    if route is None:
        return None
    return AwsTopic(ids[0], ids[1], route)


def request_topic(tenant_id: str, device_id: str, route: str) -> str:
    """The `$aws/things/...` topic a route came from (answers append /accepted or /rejected)."""
    if route.startswith(SHADOW_ROUTE + "/"):
        return f"{thing_root(tenant_id, device_id)}/shadow/{route[len(SHADOW_ROUTE) + 1:]}"
    if route.startswith(JOBS_ROUTE + "/"):
        return f"{jobs_prefix(tenant_id, device_id)}/{route[len(JOBS_ROUTE) + 1:]}"
    raise ValueError(f"not an AWS route: {route}")
