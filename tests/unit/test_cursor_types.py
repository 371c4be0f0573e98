"""A cursor of the listing's partition and key names, but key values DynamoDB would refuse as a start key."""
from __future__ import annotations

import pytest

from chalicelib.core import errors
from chalicelib.core.storage.cursors import cursor_types, decode_cursor, encode_cursor
from chalicelib.jobs.execution_model import ExecutionModel
from chalicelib.jobs.job_model import JobModel

KEYS = {"tenant_id", "job_id"}
TYPES = {"tenant_id": "S", "job_id": "S"}


def test_the_key_types_of_a_table_and_of_an_index_come_from_the_models() -> None:
    assert cursor_types(JobModel) == TYPES
    assert cursor_types(JobModel, JobModel.due) == {**TYPES, "due_shard": "N", "due_at": "S"}
    assert cursor_types(ExecutionModel) == {"job_key": "S", "device_id": "S"}


def test_a_cursor_of_the_right_types_round_trips() -> None:
    key = {"tenant_id": {"S": "acme"}, "job_id": {"S": "01j"}}
    assert decode_cursor(encode_cursor(key), partition=("tenant_id", "acme"), keys=KEYS, types=TYPES) == key


@pytest.mark.parametrize("job_id", [{"N": "1"}, {"S": ""}, {"B": "eA=="}])
def test_a_key_of_another_type_or_empty_is_invalid_input(job_id: dict[str, str]) -> None:
    token = encode_cursor({"tenant_id": {"S": "acme"}, "job_id": job_id})
    with pytest.raises(errors.InvalidInput) as exc:
        decode_cursor(token, partition=("tenant_id", "acme"), keys=KEYS, types=TYPES)
    assert exc.value.field == "next_token"


@pytest.mark.parametrize("number", ["abc", "NaN", "Infinity", ""])
def test_a_number_key_that_is_not_a_finite_number_is_invalid_input(number: str) -> None:
    token = encode_cursor({"due_shard": {"N": number}, "due_at": {"S": "2026-01-01"}})
    with pytest.raises(errors.InvalidInput):
        decode_cursor(token, partition=("due_at", "2026-01-01"), keys={"due_shard", "due_at"},
                      types={"due_shard": "N", "due_at": "S"})
