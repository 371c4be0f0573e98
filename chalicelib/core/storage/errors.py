"""Telling why a DynamoDB write failed: its condition, a cancelled transaction, a malformed request."""
from __future__ import annotations

from pynamodb.exceptions import TransactWriteError


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
