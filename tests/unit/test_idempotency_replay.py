"""What a retried create gets back when its client token is taken: shared by imports and command batches."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.core.errors import Conflict, Unavailable
from chalicelib.core.storage.idempotency import ClientTokenTaken, IdempotencyClaim, IdempotencyRecord, replayed_id

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CLAIM = IdempotencyClaim("imports", "t-1", "tok", "fp-1", "new-id", NOW)


def test_the_same_request_gets_the_first_ones_resource() -> None:
    taken = ClientTokenTaken(IdempotencyRecord("fp-1", "first-id", True, NOW))
    assert replayed_id(CLAIM, taken, "import", "import_id") == "first-id"


def test_another_request_is_a_409_naming_the_token_and_the_first_resource() -> None:
    taken = ClientTokenTaken(IdempotencyRecord("fp-2", "first-id", True, NOW))
    with pytest.raises(Conflict) as refused:
        replayed_id(CLAIM, taken, "import", "import_id")
    assert refused.value.field == "client_token" and refused.value.extra == {"import_id": "first-id"}
    assert "different import" in refused.value.message


def test_a_claim_that_vanished_is_a_503_to_retry() -> None:
    with pytest.raises(Unavailable) as busy:
        replayed_id(CLAIM, ClientTokenTaken(None), "request", "batch_id")
    assert busy.value.field == "client_token"
