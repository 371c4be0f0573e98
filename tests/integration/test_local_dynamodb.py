"""The embedded DynamoDB (moto, serialised, per-item transaction rollback) keeps every committed write."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.container import container
from chalicelib.core.storage.base import connection
from chalicelib.jobs.execution_store import ExecutionModel
from tests.conftest import Stack


def test_a_failed_transaction_does_not_revert_writes_committed_meanwhile(stack: Stack) -> None:
    # Given a table of a few thousand items (moto used to snapshot whole tables per transaction)
    key = f"t#{uuid.uuid4().hex}"
    container().execution_repository.create_all("t", key[2:], [f"d{i:05d}" for i in range(3000)],
                                             datetime.now(timezone.utc))
    stop = threading.Event()
    failures = []

    def keep_failing() -> None:
        while not stop.is_set():
            try:
                with TransactWrite(connection=connection()) as tx:
                    tx.update(ExecutionModel(key, "d00000"), actions=[ExecutionModel.version_number.add(1)],
                              condition=ExecutionModel.version_number < 0)
            except TransactWriteError:
                failures.append(1)

    # And a client whose transactions keep failing their condition
    thread = threading.Thread(target=keep_failing)
    thread.start()
    # When another client commits 50 increments of another item of the same table
    try:
        for _ in range(50):
            with TransactWrite(connection=connection()) as tx:
                tx.update(ExecutionModel(key, "d00001"), actions=[ExecutionModel.version_number.add(1)])
    finally:
        stop.set()
        thread.join()
    # Then every increment survived the other client's rollbacks
    assert failures
    assert ExecutionModel.get(key, "d00001", consistent_read=True).version_number == 51
    assert ExecutionModel.get(key, "d00000", consistent_read=True).version_number == 1


def test_a_failed_transaction_undoes_its_own_earlier_writes(stack: Stack) -> None:
    # Given two items of one partition
    key = f"t#{uuid.uuid4().hex}"
    container().execution_repository.create_all("t", key[2:], ["a", "b"], datetime.now(timezone.utc))
    # When a transaction updates the first and fails its condition on the second
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.update(ExecutionModel(key, "a"), actions=[ExecutionModel.version_number.add(1)])
            tx.update(ExecutionModel(key, "b"), actions=[ExecutionModel.version_number.add(1)],
                      condition=ExecutionModel.version_number > 5)
            tx.save(ExecutionModel(key, "c", tenant_id="t", job_id=key[2:], status="QUEUED",
                                   queued_at=datetime.now(timezone.utc), updated_at=datetime.now(timezone.utc)))
    except TransactWriteError:
        pass
    else:
        raise AssertionError("the transaction should have been cancelled")
    # Then nothing of it remains
    assert ExecutionModel.get(key, "a", consistent_read=True).version_number == 1
    assert ExecutionModel.get(key, "b", consistent_read=True).version_number == 1
    assert ExecutionModel.count(key, consistent_read=True) == 2

