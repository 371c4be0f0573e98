"""Ids: the one alphabet every id keeps to, its checks, and new time-ordered ids.

Free of pydantic: topics, broker usernames and the route edge check ids without loading it
(the request and record models' field types are in `core.schema`).
"""
from __future__ import annotations

import re

# Ids appear in MQTT topics, broker usernames, the broker's password and ACL files and
# DynamoDB keys, so the alphabet leaves out every character with a meaning in any of them:
# '/', '+', '#', '$' (topics), ':' (password file), whitespace and newlines (both files),
# '.' (the separator of a device's broker username `{tenant_id}.{device_id}`).
ID_ALPHABET = "letters, digits, '_' and '-' (starting with a letter or digit, at most 64)"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def is_valid_id(value: object) -> bool:
    """True when `value` is an id: the whole string in the id alphabet (never a prefix of it)."""
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


def check_id(value: str) -> str:
    """Pydantic validator form of `is_valid_id`."""
    if not is_valid_id(value):
        raise ValueError(f"must be an id: {ID_ALPHABET}")
    return value


def check_printable(value: str) -> str:
    """Refuse control characters (C0, DEL, C1) in display text: a terminal would run them as escapes."""
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def new_id(prefix: str = "") -> str:
    """A fresh, time-ordered id (a lower-case ULID), after `prefix-` when a prefix is given."""
    # Imported here: the ulid package reads its own version through importlib.metadata (about
    # 50 ms), and `import app` (every function's cold start) reaches this module for the checks.
    from ulid import ULID

    ulid = str(ULID()).lower()
    return f"{prefix}-{ulid}" if prefix else ulid
