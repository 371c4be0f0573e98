"""The fleet's firmware versions: counters moved when a twin's `reported.firmware_version` changes.

The twin's reported version is what the fleet view trusts (a job's SUCCEEDED says the
device finished, not what it runs). Counters per tenant and per group are moved by an
atomic ADD on each change, so the view is one Query, never a whole-table read. A device's groups are
read at the change; a device that joins or leaves a group later is counted there from its
next version change (the counters follow reports, not memberships).

Devices choose what they report, so the counters are bounded: a version longer than
MAX_VERSION_LENGTH, or first seen in a scope that counts MAX_VERSIONS already, is counted
under "(other)" (the twin keeps what was reported, as AWS IoT's shadow would).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from chalicelib.core.messaging.base import Message
from chalicelib.core.observability.log import logger
from chalicelib.firmware.schemas import VersionCounts
from chalicelib.firmware.store import FLEET_SCOPE, OTHER_VERSIONS, group_scope

REPORTED_KEY = "firmware_version"
MAX_VERSION_LENGTH = 64
MAX_VERSIONS = 200


class Counters(Protocol):
    """Where the counts are kept."""

    def count_version(self, tenant_id: str, scopes: list[str], before: str | None, after: str | None,
                      cap: int = MAX_VERSIONS) -> None: ...

    def version_counts(self, tenant_id: str, scope: str) -> dict[str, int]: ...


class TwinLike(Protocol):
    """The parts of a twin this reads."""

    tenant_id: str
    device_id: str
    reported: dict[str, Any]


def reported_version(twin: TwinLike) -> str | None:
    """The firmware version a twin reports, when it reports one as a string."""
    value = twin.reported.get(REPORTED_KEY)
    return value if isinstance(value, str) and value else None


def counted_as(version: str | None) -> str | None:
    """The counter a reported version moves: its own, or "(other)" when it is too long to be a key."""
    return version if version is None or len(version) <= MAX_VERSION_LENGTH else OTHER_VERSIONS


class FirmwareVersions:
    """Counts devices per reported firmware version, in the fleet and in each group."""

    def __init__(self, counters: Counters, groups_of: Callable[[str, str], list[str]],
                 group_exists: Callable[[str, str], object]) -> None:
        self._counters = counters
        self._groups_of = groups_of
        self._group_exists = group_exists

    def twin_written(self, before: TwinLike, after: TwinLike, desired: dict[str, Any] | None,
                     reported: dict[str, Any] | None) -> list[Message]:
        """A twin write's listener: move the device's count when its reported version changed."""
        old, new = counted_as(reported_version(before)), counted_as(reported_version(after))
        if reported is None or old == new:
            return []
        scopes = [FLEET_SCOPE, *(group_scope(g) for g in self._groups_of(after.tenant_id, after.device_id))]
        self._counters.count_version(after.tenant_id, scopes, old, new, MAX_VERSIONS)
        logger.info("firmware version reported", tenant=after.tenant_id, device=after.device_id,
                    previous=old, outcome=new)
        return []

    def counts(self, tenant_id: str, group_id: str | None = None) -> VersionCounts:
        """Devices per version in the fleet, or in one group of the tenant (404 for a foreign group)."""
        if group_id is not None:
            self._group_exists(tenant_id, group_id)
        scope = group_scope(group_id) if group_id else FLEET_SCOPE
        versions = dict(sorted(self._counters.version_counts(tenant_id, scope).items()))
        return VersionCounts(scope="group" if group_id else "fleet", group_id=group_id, versions=versions,
                             total=sum(versions.values()))
