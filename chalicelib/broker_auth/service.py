"""The broker login and topic rules, the same as the local broker's password file and ACLs.

A device logs in with username and client id `{tenant_id}.{device_id}` and its provision
token as password, and may publish and subscribe only under its own subtree. Service users
(`svc-cloud`, `svc-bridge`, `svc-observer`: names without a '.') are authenticated by the
broker itself (this service answers `ignore`), and reach every tenant's topics in one
direction each, as the local ACLs give them.
"""
from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from chalicelib.broker_auth.service_grants import READ, WRITE, service_may
from chalicelib.core.auth import tokens
from chalicelib.core.errors import Unauthenticated
from chalicelib.core.identity import device_may_use_topic, is_service_username, parse_mqtt_username

if TYPE_CHECKING:
    from chalicelib.devices.schemas import DevicePrincipal

TokenLookup = Callable[[str], "DevicePrincipal | None"]

MAX_TOKEN_CHARS = 200


class Result(StrEnum):
    """What the broker does: let in, refuse, or ask its next authenticator (service users)."""

    ALLOW = "allow"
    DENY = "deny"
    IGNORE = "ignore"


@dataclass(frozen=True)
class DeviceLogin:
    """A device whose credentials the registry accepted."""

    tenant_id: str
    device_id: str
    username: str


class BrokerAuthService:
    """Decisions for a broker's authentication and authorization hooks."""

    def __init__(self, lookup: TokenLookup, secret: str) -> None:
        self._lookup = lookup
        self._secret = secret

    def check_secret(self, presented: str | None) -> None:
        """Refuse a caller that is not the broker (constant-time compare; no secret = disabled)."""
        if not self._secret or not presented or not hmac.compare_digest(presented.encode(), self._secret.encode()):
            raise Unauthenticated("broker secret is missing or wrong", field="X-Broker-Secret")

    def login(self, username: str, password: str, client_id: str) -> DeviceLogin | None:
        """The device these credentials belong to, or None (wrong, disabled, foreign or mismatched)."""
        parsed = parse_mqtt_username(username)
        if parsed is None or client_id != username or not password or len(password) > MAX_TOKEN_CHARS:
            return None
        principal = self._lookup(tokens.token_hash(password))
        if principal is None or not principal.enabled or (principal.tenant_id, principal.device_id) != parsed:
            return None
        return DeviceLogin(parsed[0], parsed[1], username)

    def authenticate(self, username: str, password: str, client_id: str) -> Result:
        """allow a device with its own token, ignore service users, deny everything else."""
        if is_service_username(username):
            return Result.IGNORE
        return Result.ALLOW if self.login(username, password, client_id) else Result.DENY

    def authorize(self, username: str, topic: str, action: str) -> Result:
        """allow a device inside its own subtree and a service user in its direction; deny the rest."""
        actions = {"publish", "subscribe"} if action == "all" else {action}
        if is_service_username(username):
            access = {"publish": WRITE, "subscribe": READ}
            ok = all(a in access and service_may(username, topic, access[a]) for a in actions)
            return Result.ALLOW if ok else Result.DENY
        parsed = parse_mqtt_username(username)
        if parsed is None:
            return Result.DENY
        return Result.ALLOW if device_may_use_topic(*parsed, topic) else Result.DENY
