"""Sharded execution counters: N small items per job so devices finishing together do not contend.

A device's status change adds to one shard picked at random, in the same transaction as
the execution, instead of to the job item: 10,000 devices finishing within a minute
spread their writes over N keys. Each shard also carries a copy of what decides whether
the job still accepts device writes (status, sweep, expiry): the *fence*, checked by the
same transaction, so the job item is in no device write at all. Whoever changes those on
the job item copies them to every shard before acting on the executions.

Totals are the job item's own counters (creation and bulk sweeps count there) plus the
sum of the shards.
"""
from __future__ import annotations

import random
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from chalicelib.core.storage.base import table_meta
from chalicelib.core.storage.keys import tenant_key
from chalicelib.jobs.job_model import COUNTERS, JobCounts
from chalicelib.jobs.schemas import ExecutionStatus, JobStatus, SweepKind


class JobCounterModel(JobCounts, Model):
    """One counter shard of one job: per-status deltas and the job's fence (the attributes of JobCounts)."""

    Meta = table_meta("job-counters")

    job_key = UnicodeAttribute(hash_key=True)
    shard = NumberAttribute(range_key=True)


# Partition key of a job's shards.
counter_key = tenant_key


def pick_shard(shards: int) -> int:
    """A shard for one write (random: bursts of any shape spread evenly)."""
    return random.randrange(shards)


class CounterRepository:
    """Creation, fencing and totals of a job's counter shards."""

    def create(self, tenant_id: str, job_id: str, shards: int, expires_at: datetime) -> None:
        """Zeroed shards fenced for a live job (before the job item exists: nobody writes them yet)."""
        key = counter_key(tenant_id, job_id)
        with JobCounterModel.batch_write() as batch:
            for k in range(shards):
                batch.save(JobCounterModel(key, k, status=JobStatus.IN_PROGRESS.value, expires_at=expires_at))

    def fence(self, tenant_id: str, job_id: str, shards: int, status: JobStatus, sweep: SweepKind | None,
              expires_at: datetime) -> None:
        """Copy the job's acceptance state to every shard (idempotent)."""
        key = counter_key(tenant_id, job_id)
        for k in range(shards):
            actions: list[Action] = [JobCounterModel.status.set(status.value),
                                     JobCounterModel.expires_at.set(expires_at)]
            actions.append(JobCounterModel.sweep.set(sweep.value) if sweep else JobCounterModel.sweep.remove())
            JobCounterModel(key, k).update(actions=actions)

    def opens(self, tenant_id: str, job_id: str, shards: int) -> tuple[int, ...]:
        """Each shard's open count, by shard number (one consistent Query)."""
        opens = [0] * shards
        for m in JobCounterModel.query(counter_key(tenant_id, job_id), consistent_read=True,
                                       attributes_to_get=["shard", "open_count"]):
            if int(m.shard) < shards:
                opens[int(m.shard)] = int(m.open_count or 0)
        return tuple(opens)

    def totals(self, tenant_id: str, job_id: str) -> tuple[dict[ExecutionStatus, int], int]:
        """Per-status and open deltas summed over the shards (one consistent Query)."""
        counts = dict.fromkeys(ExecutionStatus, 0)
        open_count = 0
        for m in JobCounterModel.query(counter_key(tenant_id, job_id), consistent_read=True):
            for status, attr in COUNTERS.items():
                counts[status] += int(getattr(m, attr.attr_name) or 0)
            open_count += int(m.open_count or 0)
        return counts, open_count
