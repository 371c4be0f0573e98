"""Firmware references inside a document: `{"firmware_id": ...}` objects and AWS IoT's presigned-URL placeholder.

Pure functions over JSON values: finding the references and putting what was resolved in their place.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from chalicelib.core.ids import is_valid_id

# AWS IoT Jobs' placeholder: `${aws:iot:s3-presigned-url:https://s3.region.amazonaws.com/bucket/key}`.
PLACEHOLDER = re.compile(r"\$\{aws:iot:s3-presigned-url:(https?://[^}\s]+)\}")
MAX_DEPTH = 16


@dataclass(frozen=True)
class ObjectUrl:
    """The bucket and key an S3 URL names (path-style or virtual-hosted)."""

    bucket: str
    key: str


def parse_s3_url(url: str) -> ObjectUrl | None:
    """Bucket and key of `https://s3.<region>.amazonaws.com/bucket/key`, `https://bucket.s3...amazonaws.com/key`
    or a path-style URL of any other S3 endpoint; None when it names no object."""
    try:
        parts = urlsplit(url)
    except ValueError:  # `http://[x/y`: no URL at all (a bracket opens an IPv6 host never closed)
        return None
    host, path = (parts.hostname or ""), unquote(parts.path).lstrip("/")
    if ".s3." in f".{host}" and not host.startswith("s3."):
        bucket, key = host.split(".s3.", 1)[0], path
    else:
        bucket, _, key = path.partition("/")
    return ObjectUrl(bucket, key) if bucket and key else None


def firmware_id_of_key(tenant_id: str, key: str) -> str | None:
    """The artifact a key of our bucket belongs to, when it is under the tenant's prefix; else None."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != tenant_id or not is_valid_id(parts[1]):
        return None
    return parts[1]


@dataclass(frozen=True)
class Found:
    """The references of one document: artifact ids (objects) and placeholder URLs (strings)."""

    ids: tuple[str, ...]
    urls: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.ids or self.urls)


def find(document: Any) -> Found:
    """Every reference in the document, each once, in document order."""
    ids: dict[str, None] = {}
    urls: dict[str, None] = {}

    def walk(value: Any, depth: int) -> None:
        if depth > MAX_DEPTH:
            return
        if isinstance(value, dict):
            ref = value.get("firmware_id")
            if isinstance(ref, str):
                ids[ref] = None
            for item in value.values():
                walk(item, depth + 1)
        elif isinstance(value, list):
            for item in value:
                walk(item, depth + 1)
        elif isinstance(value, str) and "${aws:iot:s3-presigned-url:" in value:
            for match in PLACEHOLDER.finditer(value):
                urls[match.group(1)] = None

    walk(document, 0)
    return Found(tuple(ids), tuple(urls))


def substitute(document: Any, by_id: Callable[[str], dict[str, Any] | None],
               by_url: Callable[[str], str | None]) -> Any:
    """A copy of the document with each reference object extended and each placeholder replaced.

    A reference that cannot be resolved (deleted meanwhile, foreign) stays as it was: the
    device sees no URL rather than someone else's.
    """

    def walk(value: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            return value
        if isinstance(value, dict):
            out = {k: walk(v, depth + 1) for k, v in value.items()}
            ref = value.get("firmware_id")
            extra = by_id(ref) if isinstance(ref, str) else None
            return {**out, **extra} if extra else out
        if isinstance(value, list):
            return [walk(v, depth + 1) for v in value]
        if isinstance(value, str) and "${aws:iot:s3-presigned-url:" in value:
            return PLACEHOLDER.sub(lambda m: by_url(m.group(1)) or m.group(0), value)
        return value

    return walk(document, 0)
