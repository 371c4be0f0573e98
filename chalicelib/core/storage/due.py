"""The sparse due index a per-minute schedule reads (see core/sweep.py): items with work left, by shard.

An item carries `due_shard`/`due_at` only while the schedule has work for it, so the
index holds nothing else; keys only, so the item's other writes never write to it.
"""
from __future__ import annotations

from typing import TypeVar

from pynamodb.attributes import NumberAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

_M = TypeVar("_M", bound=Model)


class DueKeys:
    """A model's side of the due index: which schedule shard, and when the work is due (both removed when done)."""

    due_shard = NumberAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)


class DueIndex(GlobalSecondaryIndex[_M]):
    """The index over DueKeys: a subclass gives its Meta (index name, keys-only projection)."""

    due_shard = NumberAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)
