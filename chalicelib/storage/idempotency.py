"""Client tokens for idempotent creates (the Powertools pattern: in progress with a lease, then done).

The first request to claim a token names the resource and holds a lease while it creates
it. A replay finds the resource once the claim is done; while the lease is live it is told
to retry; after the lease ran out (the first invocation died: its Lambda timed out) it takes
the claim over and finishes the same resource.
"""
from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import BooleanAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.models import Model

from chalicelib.errors import Conflict
from chalicelib.storage.base import is_condition_failure


class IdempotencyModel(Model):
    """One claimed client token of one tenant and scope (e.g. "jobs")."""

    class Meta:
        table_suffix = "idempotency"
        table_name = "idempotency"
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)
    resource_id = UnicodeAttribute()
    fingerprint = UnicodeAttribute()
    done = BooleanAttribute(default=False)
    lease_until = UTCDateTimeAttribute()
    created_at = UTCDateTimeAttribute()
    # DynamoDB deletes the claim some time after this; a replay after that creates anew.
    expires_at = TTLAttribute()


class ClaimState(enum.Enum):
    """What the caller should do with the resource a claim names."""

    NEW = "new"  # create it
    RESUMED = "resumed"  # an earlier attempt died: finish creating it
    DONE = "done"  # it exists: return it


@dataclass(frozen=True)
class Claim:
    """The resource a client token names and what to do with it."""

    resource_id: str
    state: ClaimState


def fingerprint(request: dict[str, Any]) -> str:
    """A stable digest of a request body, to tell a replay from a different request."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class IdempotencyRepository:
    """Claims, completes and releases client tokens."""

    def begin(self, tenant_id: str, scope: str, token: str, resource_id: str, request_fingerprint: str,
              now: datetime, lease: timedelta, keep_until: datetime) -> Claim:
        """Claim `token` for `resource_id`, or learn what an earlier claim of it says.

        409 when the token was used for a different request, or while another attempt
        holds a live lease on it.
        """
        key = _key(tenant_id, scope, token)
        item = IdempotencyModel(key, resource_id=resource_id, fingerprint=request_fingerprint, done=False,
                                lease_until=now + lease, created_at=now, expires_at=keep_until)
        try:
            item.save(condition=IdempotencyModel.key.does_not_exist())
            return Claim(resource_id, ClaimState.NEW)
        except PutError as exc:
            if not is_condition_failure(exc):
                raise
        existing = IdempotencyModel.get(key, consistent_read=True)
        if existing.fingerprint != request_fingerprint:
            raise Conflict("client_token was already used for a different request", field="client_token",
                           resource_id=existing.resource_id)
        if existing.done:
            return Claim(existing.resource_id, ClaimState.DONE)
        in_progress = Conflict("a request with this client_token is still in progress; retry later",
                               field="client_token", resource_id=existing.resource_id)
        if existing.lease_until > now:
            raise in_progress
        try:
            existing.update(actions=[IdempotencyModel.lease_until.set(now + lease)],
                            condition=(IdempotencyModel.lease_until == existing.lease_until)
                            & (IdempotencyModel.done == False))  # noqa: E712 (a DynamoDB condition)
        except UpdateError as exc:
            if is_condition_failure(exc):
                raise in_progress from exc
            raise
        return Claim(existing.resource_id, ClaimState.RESUMED)

    def complete(self, tenant_id: str, scope: str, token: str) -> None:
        """The resource exists: replays return it from now on."""
        IdempotencyModel(_key(tenant_id, scope, token)).update(actions=[IdempotencyModel.done.set(True)])

    def release(self, tenant_id: str, scope: str, token: str) -> None:
        """Forget a claim whose request failed before creating anything, so it may be retried."""
        IdempotencyModel(_key(tenant_id, scope, token)).delete(condition=IdempotencyModel.done == False)  # noqa: E712


def _key(tenant_id: str, scope: str, token: str) -> str:
    return f"{tenant_id}#{scope}#{token}"
