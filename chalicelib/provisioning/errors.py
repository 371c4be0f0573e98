"""Why an enrolment is refused, in the terms AWS IoT's fleet provisioning answers on `.../rejected`."""
from __future__ import annotations

from typing import Any

from chalicelib.core.errors import InvalidInput


class ProvisioningRefused(InvalidInput):
    """No device is made; `status_code` and `error_code` are AWS's, the message says what to fix."""

    code = "provisioning_refused"

    def __init__(self, message: str, *, status_code: int = 400, error_code: str = "InvalidParameters",
                 field: str | None = None, **extra: Any) -> None:
        super().__init__(message, field=field, **extra)
        self.status_code = status_code
        self.error_code = error_code
