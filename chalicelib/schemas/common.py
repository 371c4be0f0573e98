"""Shared field types and base classes for request and record models."""
from __future__ import annotations

import json
import math
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
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
JsonObject = dict[str, Any]
# Body fields are strict: JSON `true` is not 1 and `"5"` is not 5 (query strings stay lax).
StrictInt = Annotated[int, Strict()]
StrictBool = Annotated[bool, Strict()]


class Request(BaseModel):
    """Base of request bodies: unknown fields are an error, so typos are not ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Record(BaseModel):
    """Base of the records repositories return and routes serialise."""

    model_config = ConfigDict(extra="ignore")


class PageQuery(BaseModel):
    """Pagination query parameters shared by every listing."""

    model_config = ConfigDict(extra="ignore")

    limit: int | None = Field(default=None, ge=1, le=1000)
    next_token: str | None = Field(default=None, max_length=4096)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class NonFiniteNumber(ValueError):
    """A number too large for a float (`1e999`): it would be stored and sent as `Infinity`."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path or 'body'}: numbers must be finite")
        self.path = path


def _non_finite_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first non-finite float in a parsed document, if any."""
    if isinstance(value, float):
        return None if math.isfinite(value) else path
    if isinstance(value, dict):
        for key, item in value.items():
            found = _non_finite_path(item, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _non_finite_path(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def loads_strict(raw: bytes | str) -> Any:
    """json.loads without Python's extensions: NaN/Infinity, overflowing numbers and lone surrogates are refused.

    All of them parse in Python but cannot be stored, compared or sent on as JSON, so they
    would fail later (a 500, a bare `Infinity` served back, or a message the bridge retries
    for ever); here they are a ValueError (NonFiniteNumber names the field).
    RecursionError (absurd nesting) is left to the caller, like the other parse errors.
    """
    overflowed: list[str] = []

    def parse_float(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            overflowed.append(text)
        return value

    data = json.loads(raw, parse_constant=_refuse_constant, parse_float=parse_float)
    # `1e999` (or 400 digits) is a valid JSON number that parses to inf; name where it is.
    if overflowed:
        raise NonFiniteNumber(_non_finite_path(data) or "")
    # A lone surrogate can only come from a \\u escape (raw bytes would not decode), so most
    # bodies skip the re-encoding that finds one (it decodes to a str without a UTF-8 form).
    if isinstance(raw, str) or b"\\u" in raw:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    return data
