"""Client tokens: a request retried with the same token returns what the first one created.

A claim is one small item written in the same TransactWrite as the resource it guards,
so either both exist or neither does. Features (commands, jobs) choose a `scope`, compute
the request's fingerprint with `fingerprint()`, and on `ClientTokenTaken` compare it:
same fingerprint -> answer with the original resource (`ref`), different -> 409.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import JSONAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite


class IdempotencyModel(Model):
    """One client token of one tenant and scope."""

    class Meta:
        table_suffix = "idempotency"
        table_name = "idempotency"
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)
    fingerprint = UnicodeAttribute()
    ref = JSONAttribute()
    created_at = UTCDateTimeAttribute()
    # DynamoDB deletes expired claims eventually; reads ignore them at once.
    expires_at = TTLAttribute()


@dataclass(frozen=True)
class IdempotencyClaim:
    """A client token to record together with the resource it created."""

    scope: str
    tenant_id: str
    client_token: str
    fingerprint: str
    ref: dict[str, Any]
    expires_at: datetime

    @property
    def key(self) -> str:
        return claim_key(self.scope, self.tenant_id, self.client_token)


@dataclass(frozen=True)
class IdempotencyRecord:
    """A stored claim: the fingerprint of the first request and what it created."""

    fingerprint: str
    ref: dict[str, Any]
    created_at: datetime


class ClientTokenTaken(Exception):
    """The client token was already used; `record` is the earlier claim (None if it vanished)."""

    def __init__(self, record: IdempotencyRecord | None) -> None:
        super().__init__("client token already used")
        self.record = record


def claim_key(scope: str, tenant_id: str, client_token: str) -> str:
    """Partition key of a claim; tenant ids cannot contain '#', so keys never collide."""
    return f"{scope}#{tenant_id}#{client_token}"


def fingerprint(value: Any) -> str:
    """A stable hash of a request body (key order and whitespace do not matter)."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyStore:
    """Writes claims inside a caller's transaction and reads them back."""

    def add_to(self, tx: TransactWrite, claim: IdempotencyClaim, now: datetime) -> None:
        """Add the claim's put to `tx`; it fails the transaction when a live claim exists."""
        item = IdempotencyModel(
            claim.key,
            fingerprint=claim.fingerprint,
            ref=claim.ref,
            created_at=now,
            expires_at=claim.expires_at,
        )
        # An expired claim that TTL has not deleted yet may be taken over.
        tx.save(item, condition=IdempotencyModel.key.does_not_exist() | (IdempotencyModel.expires_at < now))

    def get(self, scope: str, tenant_id: str, client_token: str, now: datetime) -> IdempotencyRecord | None:
        """The live claim of this token, if any (strongly consistent)."""
        try:
            item = IdempotencyModel.get(claim_key(scope, tenant_id, client_token), consistent_read=True)
        except DoesNotExist:
            return None
        if item.expires_at is not None and item.expires_at <= now:
            return None
        return IdempotencyRecord(item.fingerprint, item.ref or {}, item.created_at)
