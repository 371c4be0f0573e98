"""Pure device-twin rules (AWS IoT shadow semantics): delta, merge, metadata, sync status, limits.

No AWS, storage or HTTP import: the services, the bridge and the simulated devices reuse it.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

Document = dict[str, Any]

# Metadata mirrors the document: a leaf key maps to {"timestamp": iso}, an object to its keys.
TIMESTAMP = "timestamp"


class SyncStatus(StrEnum):
    """Whether the device has caught up with the desired state."""

    SYNCED = "synced"
    PENDING = "pending"
    STALE = "stale"


def compute_delta(desired: Document, reported: Document) -> Document:
    """Desired keys whose value differs from reported or is missing there.

    Reported-only keys are left out, nested objects recurse and keep their path,
    arrays (and any other value) compare whole, and null never appears.
    """
    delta: Document = {}
    for key, want in desired.items():
        if want is None:
            continue
        have = reported.get(key)
        if isinstance(want, dict):
            if key in reported and not isinstance(have, dict):
                # The device holds a scalar or array where an object is wanted: replace it whole.
                delta[key] = strip_nulls(want)
                continue
            sub = compute_delta(want, have or {})
            if sub:
                delta[key] = sub
        elif key not in reported or not same_value(want, have):
            delta[key] = want
    return delta


def same_value(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1 (Python says it is), 1 equals 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return bool(a == b)


def strip_nulls(value: Any) -> Any:
    """The value with null object members removed (array elements are kept as given)."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    return value


def merge(document: Document, patch: Document) -> Document:
    """Apply a partial update: objects merge key by key, null deletes, anything else replaces.

    An object emptied by deletes is removed too, so deleting its last key leaves no
    `{}` behind that would read as a wanted (but empty) setting.
    """
    result = dict(document)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            current = result.get(key)
            merged = merge(current if isinstance(current, dict) else {}, value)
            if merged or not _only_deletes(value):
                result[key] = merged
            elif isinstance(current, dict):
                result.pop(key)
            # else: deleting members of a non-object deletes nothing
        else:
            result[key] = value
    return result


def _only_deletes(patch: Document) -> bool:
    return bool(patch) and all(v is None or (isinstance(v, dict) and _only_deletes(v)) for v in patch.values())


def merge_metadata(metadata: Document, patch: Document, merged: Document, stamp: str) -> Document:
    """Per-key timestamps after `patch` produced `merged`: touched leaves get `stamp`."""
    result = dict(metadata)
    for key, value in patch.items():
        if key not in merged:
            result.pop(key, None)
        elif isinstance(value, dict):
            if isinstance(merged[key], dict):
                current = result.get(key)
                nested = current if isinstance(current, dict) and not _is_leaf(current) else {}
                result[key] = merge_metadata(nested, value, merged[key], stamp)
            # else: a delete-only patch left a non-object untouched, and its timestamp with it
        else:
            result[key] = {TIMESTAMP: stamp}
    return result


def _is_leaf(meta: Document) -> bool:
    return set(meta) == {TIMESTAMP} and isinstance(meta[TIMESTAMP], str)


def sync_status(desired_version: int, reported_version: int, last_seen_at: datetime | None,
                now: datetime | None = None, stale_after: timedelta = timedelta(hours=1)) -> SyncStatus:
    """`stale` when the device was not seen within `stale_after`, else `synced` or `pending`."""
    if last_seen_at is None:
        return SyncStatus.STALE
    now = now or datetime.now(UTC)
    seen = last_seen_at if last_seen_at.tzinfo else last_seen_at.replace(tzinfo=UTC)
    if now - seen > stale_after:
        return SyncStatus.STALE
    return SyncStatus.SYNCED if reported_version >= desired_version else SyncStatus.PENDING


def depth(value: Any) -> int:
    """Nesting depth: a flat object is 1, each nested object or array adds one.

    Iterative, so a hostile document cannot exhaust the interpreter's recursion limit.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level + 1)
        stack.extend((child, level + 1) for child in children)
    return deepest


def encoded_size(document: Document) -> int:
    """Bytes of the compact UTF-8 JSON form, the size the limit is measured in."""
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode())
