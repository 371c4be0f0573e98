"""The domain error tree. No chalice import: the bridge and tools reuse it."""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a caller may see; `code` is machine-readable."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra


class InvalidInput(DomainError):
    """The request is malformed or violates a documented constraint."""

    code = "invalid_input"


class PayloadTooLarge(DomainError):
    """A body or document exceeds its configured size limit."""

    code = "payload_too_large"


class Unauthenticated(DomainError):
    """Credentials are missing, malformed, expired, revoked or wrong."""

    code = "unauthenticated"


class NotFound(DomainError):
    """The resource does not exist for this caller (foreign ids included)."""

    code = "not_found"


class Conflict(DomainError):
    """The resource is not in a state that allows the change."""

    code = "conflict"


class Unavailable(DomainError):
    """A dependency (database, broker) could not be reached; retry later."""

    code = "unavailable"
