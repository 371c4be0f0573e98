"""Binding models to tables, timestamps, and opaque pagination cursors."""
from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Generic, TypeVar

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.pagination import ResultIterator

from chalicelib.core.config import Settings
from chalicelib.core.errors import InvalidInput
from chalicelib.core.storage import session

T = TypeVar("T")
M = TypeVar("M", bound=Model)

_bound: dict[str, Any] = {}


def bind_models(models: Iterable[type[Model]], settings: Settings) -> None:
    """Point every model at this stage's table names and endpoint.

    Models are declared with a bare suffix as table name; binding happens once per
    process so the same classes serve AWS, LocalStack and the embedded emulator.
    """
    for model in models:
        suffix: str = model.Meta.table_suffix  # type: ignore[attr-defined]
        model.Meta.table_name = settings.table_name(suffix)
        model.Meta.host = settings.ddb_endpoint or None
        model.Meta.region = settings.aws_region
        model.Meta.max_retry_attempts = settings.ddb_max_retries
        # Fan-outs and sweeps write from several threads; botocore's default pool is 10.
        model.Meta.max_pool_connections = settings.ddb_max_pool_connections
        # PynamoDB caches the low-level connection per class; drop it so a rebind
        # (tests, a second stage in one process) takes effect.
        model._connection = None
    # One session and client for all of them, built on the first request (see session.py).
    session.install()
    session.reset()
    _bound["connection"] = None
    _bound["settings"] = settings


def connection() -> Connection:
    """A low-level connection for TransactWrite/TransactGet (PynamoDB needs one)."""
    conn = _bound.get("connection")
    if conn is None:
        settings: Settings = _bound["settings"]
        conn = Connection(
            region=settings.aws_region,
            host=settings.ddb_endpoint or None,
            max_retry_attempts=settings.ddb_max_retries,
            max_pool_connections=settings.ddb_max_pool_connections,
        )
        _bound["connection"] = conn
    return conn


def schedule_shard(key: str, shards: int) -> int:
    """Which shard of a schedule's sparse due index an item lives in: stable, spread by a hash of its key."""
    return zlib.crc32(key.encode()) % shards


def utcnow() -> datetime:
    """Timezone-aware now; services pass their own clock, this is the default."""
    return datetime.now(timezone.utc)


def iso(ts: datetime | None) -> str | None:
    """ISO-8601 with a Z suffix, the only timestamp format we store and return."""
    if ts is None:
        return None
    return ts.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: str | None) -> datetime | None:
    """Inverse of iso()."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing and the cursor for the next one (None at the end)."""

    items: list[T]
    next_token: str | None


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    """Turn DynamoDB's LastEvaluatedKey into an opaque token."""
    if not last_key:
        return None
    raw = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str | None, *, partition: tuple[str, str], keys: Iterable[str]) -> dict[str, Any] | None:
    """Parse a next_token and check it belongs to the caller's partition and listing.

    The partition check is what keeps a crafted cursor from reading another
    tenant's items: the cursor can only move within the key the caller queries.
    `keys` are the attribute names of the listing's LastEvaluatedKey; a cursor of
    another listing (or a hand-made one) is refused here, as a 400, rather than by
    DynamoDB as a ValidationException.
    """
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidInput("next_token is not a valid cursor", field="next_token") from exc
    name, value = partition
    if not isinstance(key, dict) or not all(_is_key_value(v) for v in key.values()):
        raise InvalidInput("next_token is not a valid cursor", field="next_token")
    if key.get(name, {}).get("S") != value or set(key) != set(keys):
        raise InvalidInput("next_token does not belong to this listing", field="next_token")
    return key


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


def failed_conditions(exc: TransactWriteError) -> set[int]:
    """Positions of the items whose condition failed in a cancelled transaction.

    PynamoDB sends condition checks first, then deletes, puts and updates, whatever
    order the calls were made in; positions follow that order.
    """
    return {
        i for i, reason in enumerate(exc.cancellation_reasons or [])
        if reason is not None and reason.code == "ConditionalCheckFailed"
    }


def is_condition_failure(exc: Exception) -> bool:
    """Whether a PynamoDB write failed on its condition (not on the network)."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def is_invalid_request(exc: BaseException) -> bool:
    """Whether DynamoDB refused a request as malformed (retrying the same one cannot help)."""
    return getattr(exc, "cause_response_code", None) == "ValidationException"
