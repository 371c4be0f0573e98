"""Shared field types and base classes for request and record models."""
from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, StringConstraints

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


# The pattern documents the alphabet in JSON schemas; check_id is the check that counts.
ResourceId = Annotated[str, StringConstraints(pattern=ID_PATTERN), AfterValidator(check_id)]
def check_printable(value: str) -> str:
    """Refuse control characters (C0, DEL, C1) in display text: a terminal would run them as escapes."""
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True),
                 AfterValidator(check_printable)]
# Longer display text (descriptions): the same rule, newlines and tabs allowed.
Description = Annotated[str, StringConstraints(max_length=1000), AfterValidator(
    lambda v: check_printable(v.replace("\n", " ").replace("\t", " ")) and v)]
JsonObject = dict[str, Any]
# Body fields are strict: JSON `true` is not 1 and `"5"` is not 5 (query strings stay lax).
StrictInt = Annotated[int, Strict()]
StrictBool = Annotated[bool, Strict()]


# defer_build: every model's validator is built on its first use, not when its module is
# imported; a function's cold start imports every feature's schemas and uses a few of them.


class Request(BaseModel):
    """Base of request bodies: unknown fields are an error, so typos are not ignored."""

    model_config = ConfigDict(defer_build=True, extra="forbid", str_strip_whitespace=False)


class Record(BaseModel):
    """Base of the records repositories return and routes serialise."""

    model_config = ConfigDict(defer_build=True, extra="ignore")


class PageQuery(BaseModel):
    """Pagination query parameters shared by every listing."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    limit: int | None = Field(default=None, ge=1, le=1000)
    next_token: str | None = Field(default=None, max_length=4096)


# The one JSON parser of every entry point lives in strict_json; re-exported for convenience.
from chalicelib.core.strict_json import UnsafeJson as UnsafeJson  # noqa: E402
from chalicelib.core.strict_json import loads_strict as loads_strict  # noqa: E402
