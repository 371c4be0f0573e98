"""Pages of listings and the opaque cursors that continue them, checked against the caller's partition."""
from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

from pynamodb.exceptions import QueryError
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import Index
from pynamodb.models import Model
from pynamodb.pagination import ResultIterator

from chalicelib.core.errors import InvalidInput
from chalicelib.core.storage.errors import is_invalid_request

T = TypeVar("T")
U = TypeVar("U")
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing and the cursor for the next one (None at the end)."""

    items: list[T]
    next_token: str | None

    def map(self, fn: Callable[[T], U]) -> Page[U]:
        """The same page with each item turned into what the caller lists."""
        return Page([fn(item) for item in self.items], self.next_token)


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    """Turn DynamoDB's LastEvaluatedKey into an opaque token."""
    if not last_key:
        return None
    raw = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str | None, *, partition: tuple[str, str], keys: Iterable[str],
                  types: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """Parse a next_token and check it belongs to the caller's partition and listing.

    The partition check is what keeps a crafted cursor from reading another
    tenant's items: the cursor can only move within the key the caller queries.
    `keys` are the attribute names of the listing's LastEvaluatedKey; a cursor of
    another listing (or a hand-made one) is refused here, as a 400, rather than by
    DynamoDB as a ValidationException. `types` (attribute name -> "S" or "N") refuses a key
    of the right names but another type, an empty string or a number that is not one.
    """
    if not token:
        return None
    try:
        key = _parse(token)
    except (ValueError, binascii.Error) as exc:
        raise InvalidInput("next_token is not a valid cursor", field="next_token") from exc
    name, value = partition
    if not isinstance(key, dict) or not all(_is_key_value(v) for v in key.values()):
        raise InvalidInput("next_token is not a valid cursor", field="next_token")
    if key.get(name, {}).get("S") != value or set(key) != set(keys):
        raise InvalidInput("next_token does not belong to this listing", field="next_token")
    if types is not None and not all(_is_of_type(v, types.get(k)) for k, v in key.items()):
        raise InvalidInput("next_token is not a valid cursor", field="next_token")
    return key


def _parse(token: str) -> Any:
    padded = token + "=" * (-len(token) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode()))


def cursor_text(token: str | None, name: str) -> str | None:
    """The string value of key attribute `name` in a next_token, unchecked (None when unreadable)."""
    if not token:
        return None
    try:
        value = _parse(token)[name]["S"]
    except (ValueError, binascii.Error, TypeError, KeyError, IndexError):
        return None
    return value if isinstance(value, str) else None


def _is_of_type(value: dict[str, str], kind: str | None) -> bool:
    # What DynamoDB would refuse as a start key: another type, an empty string, a non-number.
    text = value.get(kind or "")
    if not text:
        return False
    if kind == "N":
        try:
            return Decimal(text).is_finite()
        except InvalidOperation:
            return False
    return True


def _is_key_value(value: Any) -> bool:
    # A key attribute in DynamoDB JSON: {"S": "..."} or {"N": "..."}.
    return (isinstance(value, dict) and len(value) == 1
            and next(iter(value)) in ("S", "N") and isinstance(next(iter(value.values())), str))


def cursor_keys(model: type[Model], index: Any = None) -> frozenset[str]:
    """The attribute names of a Query's LastEvaluatedKey on a table or one of its indexes."""
    names = {model._hash_key_attribute().attr_name}
    if model._range_key_attribute() is not None:
        names.add(model._range_key_attribute().attr_name)
    if index is not None:
        names |= {a.attr_name for a in index.Meta.attributes.values() if a.is_hash_key or a.is_range_key}
    return frozenset(names)


def cursor_types(model: type[Model], index: Any = None) -> dict[str, str]:
    """The DynamoDB type ("S" or "N") of each attribute of a Query's LastEvaluatedKey."""
    attributes = list(model.get_attributes().values())
    if index is not None:
        attributes += list(index.Meta.attributes.values())
    keys = cursor_keys(model, index)
    return {a.attr_name: a.attr_type for a in attributes if a.attr_name in keys}


@functools.cache
def _listing(model: type[Model], index: Any) -> tuple[str, frozenset[str], dict[str, str]]:
    # What a listing's cursor is checked against, read once per table or index (not per request).
    hash_key = next(a for a in (index.Meta.attributes.values() if index else model.get_attributes().values())
                    if a.is_hash_key)
    return hash_key.attr_name, cursor_keys(model, index), cursor_types(model, index)


def one_page(result: ResultIterator[M], model: type[M], limit: int) -> tuple[list[M], dict[str, Any] | None]:
    """At most `limit` items of one DynamoDB page of a filtered Query, and the cursor after them.

    With a filter, PynamoDB would keep reading pages until `limit` items matched: a rare
    status would cost a request per page of the whole partition. One page bounds the cost;
    the caller gets a short (even empty) page and a next_token, as DynamoDB itself does.
    """
    try:
        page = next(result.page_iter)
    except StopIteration:
        return [], None
    raw = page.get("Items", [])
    if len(raw) > limit:
        raw = raw[:limit]
        return [model.from_raw_data(i) for i in raw], {k: raw[-1][k] for k in result.page_iter.key_names}
    return [model.from_raw_data(i) for i in raw], result.page_iter.last_evaluated_key


def query_page(model: type[M], key: str, limit: int, next_token: str | None, *, index: Index[M] | None = None,
               filter_condition: Condition | None = None, **query: Any) -> Page[M]:
    """One page of the Query of partition `key`, of the model's table or of `index`, continuing `next_token`.

    The cursor is checked against that partition and listing first (decode_cursor). With a
    filter, at most one DynamoDB page is read (see one_page), wider than the limit so a
    short page is rare.
    """
    source: Any = model if index is None else index
    hash_name, keys, types = _listing(model, index)
    start = decode_cursor(next_token, partition=(hash_name, key), keys=keys, types=types)
    try:
        if filter_condition is None:
            result = source.query(key, limit=limit, page_size=limit, last_evaluated_key=start, **query)
            return Page(list(result), encode_cursor(result.last_evaluated_key))
        filtered = source.query(key, filter_condition=filter_condition, page_size=max(limit, 100),
                                last_evaluated_key=start, **query)
        models, last_key = one_page(filtered, model, limit)
        return Page(models, encode_cursor(last_key))
    except QueryError as exc:
        # A start key of the right names and types that the Query still refuses (outside its
        # range key condition, say) was made by hand: the cursor is what is wrong.
        if start is not None and is_invalid_request(exc):
            raise InvalidInput("next_token does not belong to this listing", field="next_token") from exc
        raise
