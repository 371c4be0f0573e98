"""Client tokens for idempotent creates: the first request to claim a token names the resource."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError
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
    created_at = UTCDateTimeAttribute()
    # DynamoDB deletes the claim some time after this; replays after that create anew.
    expires_at = TTLAttribute()


@dataclass(frozen=True)
class Claim:
    """Who owns a client token; `fresh` is True when this call made the claim."""

    resource_id: str
    fresh: bool


def fingerprint(request: dict[str, Any]) -> str:
    """A stable digest of a request body, to tell a replay from a different request."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class IdempotencyRepository:
    """Claims and looks up client tokens."""

    def find(self, tenant_id: str, scope: str, token: str, request_fingerprint: str) -> str | None:
        """The resource id a token already names, None when unclaimed; 409 if used for another request."""
        try:
            item = IdempotencyModel.get(_key(tenant_id, scope, token), consistent_read=True)
        except DoesNotExist:
            return None
        return _checked(item, request_fingerprint)

    def claim(self, tenant_id: str, scope: str, token: str, resource_id: str, request_fingerprint: str,
              now: datetime, keep_until: datetime) -> Claim:
        """Claim the token for `resource_id`, or return the earlier claim (409 if it differs)."""
        item = IdempotencyModel(_key(tenant_id, scope, token), resource_id=resource_id,
                                fingerprint=request_fingerprint, created_at=now, expires_at=keep_until)
        try:
            item.save(condition=IdempotencyModel.key.does_not_exist())
        except PutError as exc:
            if not is_condition_failure(exc):
                raise
            existing = IdempotencyModel.get(item.key, consistent_read=True)
            return Claim(_checked(existing, request_fingerprint), fresh=False)
        return Claim(resource_id, fresh=True)


def _key(tenant_id: str, scope: str, token: str) -> str:
    return f"{tenant_id}#{scope}#{token}"


def _checked(item: IdempotencyModel, request_fingerprint: str) -> str:
    if item.fingerprint != request_fingerprint:
        raise Conflict("client_token was already used for a different request", field="client_token",
                       resource_id=item.resource_id)
    return item.resource_id
