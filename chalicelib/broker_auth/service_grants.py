"""What each service identity may do on the broker: the one table the local ACL files and the
self-hosted brokers' authorization hook are both built from."""
from __future__ import annotations

from chalicelib.aws_iot.topics import AWS_ROOT
from chalicelib.aws_iot.topics import bridge_subscriptions as aws_requests
from chalicelib.core.topics import CLAIM_REPLIES_ROOT, CLAIMS_ROOT, PREFIX, SESSION_CUTS_ROOT

READ, WRITE = "read", "write"


def service_grants() -> dict[str, tuple[tuple[str, str], ...]]:
    """(access, topic filter) pairs per service username."""
    return {
        # The functions publish cloud-to-device topics of every tenant, AWS IoT's answers and events included.
        # ... and the answers to boards enrolling by claim (the claim plugin hands each to its one connection).
        "svc-cloud": ((WRITE, f"{PREFIX}/#"), (WRITE, f"{AWS_ROOT}/#"), (WRITE, f"{CLAIM_REPLIES_ROOT}/#")),
        # The bridge reads device-to-cloud topics of every tenant (AWS IoT's request topics only), and the
        # requests of boards enrolling by claim (the claim plugin names their claim in the topic).
        "svc-bridge": ((READ, f"{PREFIX}/#"), *((READ, f) for f in aws_requests()), (READ, f"{CLAIMS_ROOT}/#")),
        # Tests and benchmarks watch everything (the claim answers included;
        # they play the cloud's side of it in the broker's own tests).
        "svc-observer": ((READ, f"{PREFIX}/#"), (WRITE, f"{PREFIX}/#"), (READ, f"{AWS_ROOT}/#"),
                         (WRITE, f"{AWS_ROOT}/#"), (READ, f"{CLAIM_REPLIES_ROOT}/#"),
                         (READ, f"{CLAIMS_ROOT}/#"), (WRITE, f"{CLAIM_REPLIES_ROOT}/#")),
        # The credential sync closes the sessions of a claim that stopped working (nothing else).
        "svc-sync": ((WRITE, f"{SESSION_CUTS_ROOT}/#"),),
    }


def acl_lines(username: str) -> tuple[str, ...]:
    """A service user's rules in Mosquitto's acl_file syntax."""
    return tuple(f"topic {access} {topic_filter}" for access, topic_filter in service_grants().get(username, ()))


def within(requested: str, grant: str) -> bool:
    """Whether a topic (or a subscription filter) lies inside a granted filter.

    A `.../#` grant covers its subtree; any other grant covers only itself and the topics it
    matches, so a wildcard subscription can never be wider than what was granted.
    """
    if "\x00" in requested:
        return False
    if grant.endswith("/#"):
        root = grant[:-2]
        return requested == root or requested.startswith(root + "/")
    if requested == grant:
        return True
    if "+" in requested or "#" in requested:
        return False
    req, pat = requested.split("/"), grant.split("/")
    return len(req) == len(pat) and all(p in ("+", r) for p, r in zip(pat, req, strict=True))


def service_may(username: str, topic: str, access: str) -> bool:
    """Whether a service user may publish (write) to or subscribe (read) with `topic`."""
    return any(a == access and within(topic, f) for a, f in service_grants().get(username, ()))
