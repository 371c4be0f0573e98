"""Group and site commands: one command per enabled member, written in chunks, followed as one batch."""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from ulid import ULID

from chalicelib.commands.batches.members import BatchMemberReader
from chalicelib.commands.batches.schemas import BatchTarget, BatchView, CommandBatch
from chalicelib.commands.batches.store import BatchRepository, Chunk, Walk
from chalicelib.commands.schemas import CreateCommand
from chalicelib.commands.service import BatchRef, CommandService
from chalicelib.core.clock import utcnow
from chalicelib.core.ids import new_id
from chalicelib.core.observability.log import logger
from chalicelib.core.policies import BatchPolicy
from chalicelib.core.storage.cursors import Page
from chalicelib.core.storage.idempotency import ClientTokenTaken, IdempotencyClaim, fingerprint, replayed_id
from chalicelib.core.sweep import Outcome, SweepReport, SweepRunner, schedule_shard

IDEMPOTENCY_SCOPE = "command-batches"
DUE_PAGE = 50
# A page of members as (device_id, enabled), and the cursor after it (None at the end).
MemberPage = tuple[list[tuple[str, bool]], str | None]


class MemberSource(Protocol):
    """The members of one kind of target (a group, a site), page by page."""

    def check(self, tenant_id: str, target_id: str) -> None:
        """NotFound (naming the path field) unless the tenant has this target."""

    def page(self, tenant_id: str, target_id: str, cursor: str, limit: int) -> MemberPage:
        """Up to `limit` (device_id, enabled) after `cursor` ("" = from the first), and the cursor after them."""


@dataclass(frozen=True)
class Sent:
    """A batch as the POST answers it; `replayed` when its client_token named an earlier one."""

    batch: CommandBatch
    replayed: bool = False


@dataclass
class BatchReport(SweepReport):
    """What one scheduled run did: walks resumed, and how many of them finished."""

    resumed: int = 0
    completed: int = 0


class CommandBatchService:
    """Sends one command to every enabled member of a group or site, and reports on it."""

    def __init__(self, batches: BatchRepository, members: BatchMemberReader, commands: CommandService,
                 sources: Mapping[BatchTarget, MemberSource], policy: BatchPolicy,
                 clock: Callable[[], datetime] = utcnow, monotonic: Callable[[], float] = time.monotonic,
                 kick: Callable[[], None] | None = None) -> None:
        self._batches = batches
        self._members = members
        self._commands = commands
        self._sources = sources
        self._policy = policy
        self._clock = clock
        self._monotonic = monotonic
        # Starts a run of the schedule's work now (a thread, an asynchronous invoke); None: the next minute's.
        self._kick = kick

    def send(self, tenant_id: str, target: BatchTarget, target_id: str, request: CreateCommand,
             created_by: str) -> Sent:
        """Create the batch and hand its walk over at once (or, with a first chunk, send that first and hand the
        rest over once out of the POST's budget).

        The batch item is written first (with its client token claim, leased to this
        request): from then on, a crash or a timeout only delays it, since the per-minute
        schedule takes over the walk once the lease runs out. A walk handed over is due at
        once and the kick starts its run now, so a big group does not wait for the minute.
        """
        deadline = self._monotonic() + self._policy.budget_s
        now = self._clock()
        expires_at = self._commands.expiry_of(request, now)
        self._sources[target].check(tenant_id, target_id)
        batch = CommandBatch(
            batch_id=str(ULID.from_datetime(now)).lower(), tenant_id=tenant_id, target_type=target,
            target_id=target_id, command_type=request.command_type, command_params=request.command_params,
            created_at=now, created_by=created_by, expires_at=expires_at, client_token=request.client_token,
        )
        claim, owner = None, new_id("run")
        if request.client_token:
            source = {"target_type": target.value, "target_id": target_id,
                      **request.model_dump(mode="json", exclude={"client_token"})}
            claim = IdempotencyClaim(IDEMPOTENCY_SCOPE, tenant_id, request.client_token, fingerprint(source),
                                     batch.batch_id, now + self._policy.idempotency_ttl)
        first = self._policy.first_chunk
        try:
            self._batches.create(batch, schedule_shard(batch.batch_id, self._policy.shards),
                                 now if not first else now + self._policy.lease, claim, owner, handed_over=not first)
        except ClientTokenTaken as taken:
            assert claim is not None  # only a claim can be taken
            return Sent(self._replay(claim, taken), replayed=True)
        if not first:
            self._hand_over()
            return Sent(batch)
        try:
            self.run(Walk(tenant_id, batch.batch_id, "", owner), deadline, batch, first=first)
        except Exception:  # the batch is committed and leased: the schedule resumes it, as after a timeout
            logger.exception("batch walk interrupted; the schedule resumes it", tenant=tenant_id,
                             batch_id=batch.batch_id, outcome="interrupted")
        return Sent(self._batches.get(tenant_id, batch.batch_id))

    def get(self, tenant_id: str, batch_id: str, limit: int, next_token: str | None) -> BatchView:
        """The batch, its commands' counts per status, and a page of its commands (404 if foreign)."""
        batch = self._batches.get(tenant_id, batch_id)
        counts, published = self._members.counts(tenant_id, batch_id)
        page = self._members.page(tenant_id, batch_id, limit, next_token)
        return BatchView(**batch.model_dump(), counts=counts, published=published, commands=page.items,
                         next_token=page.next_token)

    def list_page(self, tenant_id: str, limit: int, next_token: str | None) -> Page[CommandBatch]:
        """The tenant's batches, newest first."""
        return self._batches.list_page(tenant_id, limit, next_token)

    def run(self, walk: Walk, deadline: float, batch: CommandBatch | None = None, redo: bool = False,
            first: int | None = None) -> bool:
        """Send chunk after chunk until the batch is sent (True), taken over, or `deadline` (monotonic) passes.

        A chunk: a page of members after the cursor, one command per enabled one (batch
        writes, then one publish round), then one conditional write that counts the chunk
        and moves the cursor past it. Each chunk's write first checks (and renews) the
        runner's lease: a runner that stalled past it, and whose walk another runner took
        over, writes nothing more. `redo` is for a walk taken over from a dead runner:
        its first chunk may be partly written, so the commands that exist are not rewritten.
        `first` caps the first chunk (the POST's, so it answers quickly). Members walked after
        the commands' expiry get none (they would arrive expired).
        """
        batch = batch or self._batches.get(walk.tenant_id, walk.batch_id)
        ref = BatchRef(batch.batch_id, batch.created_at, batch.expires_at)
        request = CreateCommand(command_type=batch.command_type, command_params=batch.command_params)
        source = self._sources[batch.target_type]
        limit = min(first or self._policy.chunk, self._policy.chunk)
        while True:
            members, cursor = source.page(batch.tenant_id, batch.target_id, walk.cursor, limit)
            limit = self._policy.chunk
            enabled = [device_id for device_id, ok in members if ok]
            todo = enabled
            if redo:
                existing = self._members.existing(batch.tenant_id, ref, enabled)
                todo = [d for d in enabled if d not in existing]
                redo = False
            if todo and self._clock() >= batch.expires_at:
                # A walk resumed after the commands' expiry sends no more: the rest are skipped.
                skipped = set(todo)
                enabled, todo = [d for d in enabled if d not in skipped], []
            if todo and not self._batches.hold(walk, self._clock(), self._policy.lease):
                return False  # this runner stalled past its lease and the walk is another's now
            if todo:
                self._commands.create_for_batch(batch.tenant_id, ref, todo, request, batch.created_by)
            out_of_time = self._monotonic() >= deadline
            # Out of time: hand the rest to the schedule at once instead of holding the lease.
            lease = timedelta(0) if out_of_time else self._policy.lease
            done = Chunk(targeted=len(members), sent=len(enabled), skipped=len(members) - len(enabled))
            if not self._batches.advance(walk, cursor, done, self._clock(), lease):
                return False  # another runner took the walk over
            if cursor is None:
                return True
            if out_of_time:
                logger.info("batch out of time; handed over", tenant=batch.tenant_id,
                            batch_id=batch.batch_id, outcome="backlog")
                self._hand_over()
                return False
            walk = replace(walk, cursor=cursor)

    def run_due(self, now: datetime, budget_s: float) -> BatchReport:
        """The scheduled work: resume every batch whose runner went quiet."""
        report = BatchReport()
        deadline = self._monotonic() + budget_s

        def resume(due: tuple[str, str]) -> Outcome:
            tenant_id, batch_id = due
            found = self._batches.walk(tenant_id, batch_id)
            walk = found and replace(found, owner=new_id("run"))
            # Leased from the clock too: a late (retried) event's own time would hand out a lease
            # already over, and the current minute's run would take the same walk meanwhile.
            until = max(now, self._clock()) + self._policy.lease
            if walk is None or not self._batches.claim(walk, now, until):
                return Outcome.SKIPPED  # finished, or another runner took it meanwhile
            report.resumed += 1
            try:
                complete = self.run(walk, deadline, redo=not walk.handed_over)
            except Exception:  # one batch's failure must not hold up the others; its lease retries it
                logger.exception("resumed batch walk failed; retried when its lease ends", tenant=tenant_id,
                                 batch_id=batch_id, outcome="failed")
                return Outcome.LEFT
            report.completed += complete
            return Outcome.DONE if complete else Outcome.LEFT

        runner = SweepRunner(self._policy.shards, self._monotonic)
        return runner.run(report, lambda shard: self._batches.due(shard, now, DUE_PAGE), resume,
                          key=lambda due: "/".join(due), deadline=deadline)

    def _hand_over(self) -> None:
        if self._kick is None:
            return
        try:
            self._kick()
        except Exception:  # the walk is due: the next minute's run takes it all the same
            logger.exception("could not start the batch run now; the schedule takes it", outcome="kick_failed")

    def _replay(self, claim: IdempotencyClaim, taken: ClientTokenTaken) -> CommandBatch:
        return self._batches.get(claim.tenant_id, replayed_id(claim, taken, "request", "batch_id"))
