"""JSON as every reader of a fleet's data can take it: the one parser of every entry point.

Python's json module accepts documents that parse but cannot be stored, compared or sent on
safely: NaN and Infinity, numbers that overflow a double (`1e999`) or silently underflow
to 0 (`1e-400`), integers no double-based reader (a browser, most firmware) holds exactly,
duplicate keys (the last one silently wins), NUL in keys, lone surrogates, and nesting deep
enough to crash a later encoder. Each of those is refused here, naming where it is.
"""
from __future__ import annotations

import json
import math
from typing import Any

# Deeper documents are refused before anything recurses over them (a twin allows far less).
MAX_DEPTH = 32
# I-JSON (RFC 7493): integers beyond +-(2**53 - 1) are not exact in IEEE 754 doubles.
MAX_SAFE_INTEGER = 2**53 - 1


class UnsafeJson(ValueError):
    """A JSON document that parses but must not be accepted; `path` names the field."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path or 'body'}: {reason}")
        self.path = path
        self.reason = reason


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise UnsafeJson(key, "duplicate key")
        if "\x00" in key:
            raise UnsafeJson("", "NUL character in a key")
        result[key] = value
    return result


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Bad("numbers must be finite")
    if value == 0.0 and any(c in "123456789" for c in text.lower().split("e")[0]):
        raise _Bad("number underflows to 0")
    return value


def _parse_int(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise _Bad(f"integers must be within +-{MAX_SAFE_INTEGER} (send larger ones as strings)")
    return value


class _Bad(ValueError):
    """A number refused while parsing; its path is found by parsing again leniently."""


def _find(value: Any, reason: str) -> str:
    """The path of the first number a lenient parse shows to be what `reason` refused."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, f"{path}.{k}" if path else str(k)) for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(item))))
        elif isinstance(item, (int, float)) and not isinstance(item, bool) and _refused(item, reason):
            return path
    return ""


def _refused(number: float, reason: str) -> bool:
    if isinstance(number, int):
        return reason.startswith("integers") and abs(number) > MAX_SAFE_INTEGER
    if reason.endswith("finite"):
        return not math.isfinite(number)
    return False  # an underflow already reads as 0.0: the path cannot be told apart


def _check_depth(data: Any) -> None:
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise UnsafeJson(path, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((v, f"{path}.{k}" if path else str(k), depth + 1) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(item))


def loads_strict(raw: bytes | str) -> Any:
    """Parse a JSON document, refusing what cannot be stored and sent on safely (UnsafeJson).

    Other parse errors are ValueError (or RecursionError for nesting past the parser's
    own limit), like json.loads.
    """
    try:
        data = json.loads(raw, parse_constant=_refuse_constant, parse_float=_parse_float,
                          parse_int=_parse_int, object_pairs_hook=_object)
    except _Bad as exc:
        lenient = json.loads(raw, parse_constant=_refuse_constant)
        raise UnsafeJson(_find(lenient, str(exc)), str(exc)) from None
    _check_depth(data)
    # A lone surrogate can only come from a \u escape (raw bytes would not decode), so most
    # bodies skip the re-encoding that finds one (it decodes to a str without a UTF-8 form).
    if isinstance(raw, str) or b"\\u" in raw:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    return data
