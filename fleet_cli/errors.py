"""The CLI's errors and exit statuses: each error knows the status the process ends with."""
from __future__ import annotations

from typing import Any

# Exit statuses scripts can rely on (2 is click's usage error).
EXIT_OK = 0
EXIT_API = 1
EXIT_USAGE = 2
EXIT_OUTCOME = 3
EXIT_WAIT_TIMEOUT = 4


class CliError(Exception):
    """Something the user should read on stderr; no traceback."""

    exit_code = EXIT_API

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(CliError):
    """No API URL, an unreadable profile file, a missing profile."""

    exit_code = EXIT_USAGE


class UsageError(CliError):
    """An argument no API call could take (an empty id, say)."""

    exit_code = EXIT_USAGE


class TransportError(CliError):
    """The API could not be reached, even after retries."""


class ApiError(CliError):
    """A 4xx/5xx answer, with the API's code, message and field."""

    def __init__(self, status: int, body: Any, text: str) -> None:
        self.status = status
        self.body = body
        fields = body if isinstance(body, dict) else {}
        # Older routes said "code", the unified shape says "error"; accept both.
        self.code = str(fields.get("error") or fields.get("code") or "")
        self.field = fields.get("field")
        detail = fields.get("message") or (text.strip()[:300] if text else "") or "no details"
        super().__init__(f"HTTP {status}" + (f" {self.code}" if self.code else "") + f": {detail}"
                         + (f" (field: {self.field})" if self.field else ""))


class OutcomeError(CliError):
    """A followed command or job ended without success (missed, expired, FAILED...)."""

    exit_code = EXIT_OUTCOME


class WaitTimeout(CliError):
    """--wait ran out of time before the command, twin or job was final."""

    exit_code = EXIT_WAIT_TIMEOUT
