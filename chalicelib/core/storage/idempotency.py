"""Client tokens: a request retried with the same token returns what the first one created.

A claim is one small item keyed "{tenant}#{scope}#{token}". Here it is written in the same
TransactWrite as the resource it guards, so either both exist or neither does (`done` at
once): the caller picks a `scope`, fingerprints the request with `fingerprint()`, and on
`ClientTokenTaken` compares it: same fingerprint -> answer with the original resource
(`resource_id`), different -> 409. The model's `done`/`lease_until` leave room for creates
that take several writes (claim first, resource after) to share the table.
"""
from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import BooleanAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.errors import Conflict, Unavailable
from chalicelib.core.storage.base import table_meta
from chalicelib.core.storage.errors import is_condition_failure, written_or_raise


class IdempotencyModel(Model):
    """One claimed client token of one tenant and scope (e.g. "commands", "jobs")."""

    Meta = table_meta("idempotency")

    key = UnicodeAttribute(hash_key=True)
    resource_id = UnicodeAttribute()
    fingerprint = UnicodeAttribute()
    # A claim written in the resource's own transaction is done at once; `done` and the lease
    # serve creates that take several writes (a claim first, the resource after).
    done = BooleanAttribute(default=False)
    lease_until = UTCDateTimeAttribute()
    created_at = UTCDateTimeAttribute()
    # DynamoDB deletes the claim some time after this; reads ignore it at once.
    expires_at = TTLAttribute()


@dataclass(frozen=True)
class IdempotencyClaim:
    """A client token to record together with the resource it created."""

    scope: str
    tenant_id: str
    client_token: str
    fingerprint: str
    resource_id: str
    expires_at: datetime

    @property
    def key(self) -> str:
        """The claim's partition key."""
        return claim_key(self.tenant_id, self.scope, self.client_token)


@dataclass(frozen=True)
class IdempotencyRecord:
    """A stored claim: the fingerprint of the first request and what it created."""

    fingerprint: str
    resource_id: str
    done: bool
    created_at: datetime


class ClaimState(enum.Enum):
    """What the caller of `begin` should do with the resource the claim names."""

    NEW = "new"  # create it
    RESUMED = "resumed"  # an earlier attempt died: finish creating it
    DONE = "done"  # it exists: return it


@dataclass(frozen=True)
class Claim:
    """The resource a client token names and what to do with it."""

    resource_id: str
    state: ClaimState
    lease_until: datetime | None = None  # this attempt's lease (NEW and RESUMED claims)


class ClientTokenTaken(Exception):
    """The client token was already used; `record` is the earlier claim (None if it vanished)."""

    def __init__(self, record: IdempotencyRecord | None) -> None:
        super().__init__("client token already used")
        self.record = record


def replayed_id(claim: IdempotencyClaim, taken: ClientTokenTaken, what: str, id_field: str) -> str:
    """The resource a retried request gets back, when `taken` was claimed by the same request.

    503 when the claim vanished meanwhile (a concurrent create released it), 409 naming the
    earlier resource (as `id_field`) when the token was used for a different `what`.
    """
    if taken.record is None:
        raise Unavailable("client_token is being used concurrently; retry", field="client_token")
    if taken.record.fingerprint != claim.fingerprint:
        raise Conflict(f"client_token was already used for a different {what}", field="client_token",
                       **{id_field: taken.record.resource_id})
    return taken.record.resource_id


def claim_key(tenant_id: str, scope: str, client_token: str) -> str:
    """Partition key of a claim; tenant ids cannot contain '#', so keys never collide."""
    return f"{tenant_id}#{scope}#{client_token}"


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
            resource_id=claim.resource_id,
            fingerprint=claim.fingerprint,
            done=True,
            lease_until=now,
            created_at=now,
            expires_at=claim.expires_at,
        )
        # An expired claim that TTL has not deleted yet may be taken over.
        tx.save(item, condition=IdempotencyModel.key.does_not_exist() | (IdempotencyModel.expires_at < now))

    def get(self, scope: str, tenant_id: str, client_token: str, now: datetime) -> IdempotencyRecord | None:
        """The live claim of this token, if any (strongly consistent)."""
        try:
            item = IdempotencyModel.get(claim_key(tenant_id, scope, client_token), consistent_read=True)
        except DoesNotExist:
            return None
        if item.expires_at is not None and item.expires_at <= now:
            return None
        return IdempotencyRecord(item.fingerprint, item.resource_id, bool(item.done), item.created_at)

    def begin(self, scope: str, tenant_id: str, client_token: str, resource_id: str, request_fingerprint: str,
              now: datetime, lease: timedelta, expires_at: datetime) -> Claim:
        """Claim a token for a multi-write create, or learn what an earlier claim of it says.

        409 when the token was used for a different request, or while another attempt
        holds a live lease on it.
        """
        key = claim_key(tenant_id, scope, client_token)
        item = IdempotencyModel(key, resource_id=resource_id, fingerprint=request_fingerprint, done=False,
                                lease_until=now + lease, created_at=now, expires_at=expires_at)
        existing = None
        for _ in range(3):  # the claim we collided with may be released before we read it
            try:
                item.save(condition=IdempotencyModel.key.does_not_exist() | (IdempotencyModel.expires_at < now))
                return Claim(resource_id, ClaimState.NEW, now + lease)
            except PutError as exc:
                if not is_condition_failure(exc):
                    raise
            try:
                existing = IdempotencyModel.get(key, consistent_read=True)
                break
            except DoesNotExist:
                continue
        if existing is None:
            raise Unavailable("client_token is being claimed and released concurrently; retry",
                              field="client_token")
        if existing.fingerprint != request_fingerprint:
            raise Conflict("client_token was already used for a different request", field="client_token",
                           resource_id=existing.resource_id)
        if existing.done:
            return Claim(existing.resource_id, ClaimState.DONE)
        in_progress = Conflict("a request with this client_token is still in progress; retry later",
                               field="client_token", resource_id=existing.resource_id)
        if existing.lease_until > now:
            raise in_progress
        unclaimed = ((IdempotencyModel.lease_until == existing.lease_until)
                     & (IdempotencyModel.done == False))  # noqa: E712 (a DynamoDB condition)
        written_or_raise(lambda: existing.update(actions=[IdempotencyModel.lease_until.set(now + lease)],
                                                 condition=unclaimed), in_progress)
        return Claim(existing.resource_id, ClaimState.RESUMED, now + lease)

    def complete(self, scope: str, tenant_id: str, client_token: str) -> None:
        """The resource of a `begin` claim exists: replays return it from now on."""
        IdempotencyModel(claim_key(tenant_id, scope, client_token)).update(actions=[IdempotencyModel.done.set(True)])

    def abandon(self, scope: str, tenant_id: str, client_token: str, claim: Claim, now: datetime) -> None:
        """A `begin` claim's request failed part-way: end its lease, so a retry resumes at once.

        Only while the lease is still this attempt's: one that outlived it must not cut
        short the lease of the attempt that took over.
        """
        if claim.lease_until is None:
            return
        try:
            IdempotencyModel(claim_key(tenant_id, scope, client_token)).update(
                actions=[IdempotencyModel.lease_until.set(now)],
                condition=(IdempotencyModel.done == False)  # noqa: E712 (a DynamoDB condition)
                & (IdempotencyModel.lease_until == claim.lease_until))
        except UpdateError as exc:
            if not is_condition_failure(exc):
                raise

    def release(self, scope: str, tenant_id: str, client_token: str) -> None:
        """Forget a `begin` claim whose request failed before creating anything, so it may be retried."""
        IdempotencyModel(claim_key(tenant_id, scope, client_token)).delete(
            condition=IdempotencyModel.done == False)  # noqa: E712 (a DynamoDB condition)
