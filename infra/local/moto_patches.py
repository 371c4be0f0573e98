"""TransactWriteItems in moto's DynamoDB, rolled back with a per-item undo log.

moto deep-copies every table a transaction touches before it starts and puts that copy
back when a condition fails: the cost grows with the table (a job-executions table of
20,000 items makes each transaction take tens of milliseconds), and a write another
client committed while the copy was being taken is lost when it is put back. Here the
whole-table copy is a no-op; the items the transaction names are saved and restored.
Requests must also be serialised (ddb_server does), so nothing runs during a patch.
"""
from __future__ import annotations

import copy
from typing import Any

_installed = False


def install_transaction_undo_log() -> None:
    """Patch moto's DynamoDB backend (idempotent); requests must be serialized too."""
    global _installed
    if _installed:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = _save_items(self, transact_items)
        Table.__deepcopy__ = lambda table, memo: table  # type: ignore[attr-defined]
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(saved):
                _restore(table, hash_key, range_key, item)
            raise
        finally:
            del Table.__deepcopy__  # type: ignore[attr-defined]

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _installed = True


def _save_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    saved = []
    for entry in transact_items:
        for op_type, op in entry.items():
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            if op_type == "Put":
                attrs = op.get("Item", {})
                names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
                key = {n: attrs[n] for n in names if n in attrs}
            else:
                key = op.get("Key") or {}
            try:
                hash_key, range_key = backend.get_keys_value(table, key)
            except Exception:  # malformed: moto rejects it before writing anything
                continue
            saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    return saved


def _restore(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    if item is None:
        if range_key is not None:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items.pop(hash_key, None)
    elif range_key is not None:
        table.items[hash_key][range_key] = item
    else:
        table.items[hash_key] = item
