"""Conditional writes and why a DynamoDB write failed: its condition, a cancelled transaction, a bad request."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError

T = TypeVar("T")


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


def written(write: Callable[[], object]) -> bool:
    """Run one conditional write: True when stored, False when its condition failed.

    Any other failure (the network, throttling past the retries) propagates.
    """
    try:
        write()
    except PynamoDBException as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def written_or_raise(write: Callable[[], object], refusal: Exception) -> None:
    """Run one conditional write; raise `refusal` (from the cause) when its condition failed."""
    try:
        write()
    except PynamoDBException as exc:
        if is_condition_failure(exc):
            raise refusal from exc
        raise


def read_or_raise(read: Callable[[], T], missing: Exception) -> T:
    """Run one GetItem; raise `missing` (from the cause) when there is no such item."""
    try:
        return read()
    except DoesNotExist as exc:
        raise missing from exc
