"""Device imports: a body of rows becomes devices, chunk after chunk, resumable, followed by one import id."""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.core.clock import utcnow
from chalicelib.core.errors import Conflict, InvalidInput
from chalicelib.core.identity import mqtt_username
from chalicelib.core.observability.log import logger
from chalicelib.core.policies import ImportPolicy
from chalicelib.core.storage.cursors import Page
from chalicelib.core.storage.idempotency import ClientTokenTaken, IdempotencyClaim, IdempotencyStore, replayed_id
from chalicelib.core.sweep import Outcome, SweepReport, SweepRunner, schedule_shard
from chalicelib.imports.certs import HELD_BYTES
from chalicelib.imports.chunks import ChunkRunner
from chalicelib.imports.parse import StoredRow, parse
from chalicelib.imports.schemas import (
    CredentialsState,
    DeviceImport,
    ImportCredential,
    ImportFormat,
    ImportStatus,
    ImportView,
    RowOutcome,
    RowResult,
)
from chalicelib.imports.store import ImportPlan, ImportRepository

IDEMPOTENCY_SCOPE = "device-imports"
DUE_PAGE = 50
# Input rows of one chunk item stay well under DynamoDB's 400 KB item limit, beside their results and tokens.
CHUNK_MAX_BYTES = 200 * 1024
# A results page reads at most this many chunks; a filter matching few rows answers a cursor to go on from.
MAX_CHUNK_READS = 25


@dataclass(frozen=True)
class Started:
    """An import as the POST answers it; `replayed` when its client_token named an earlier one."""

    record: DeviceImport
    replayed: bool = False


@dataclass
class ImportReport(SweepReport):
    """What one scheduled run did: imports resumed and completed, credentials erased."""

    resumed: int = 0
    completed: int = 0
    erased: int = 0


class DeviceImportService:
    """Starts imports, runs their chunks, shows their results, hands out their credentials once."""

    def __init__(self, imports: ImportRepository, chunks: ChunkRunner, idempotency: IdempotencyStore,
                 policy: ImportPolicy, clock: Callable[[], datetime] = utcnow,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._imports = imports
        self._chunks = chunks
        self._idempotency = idempotency
        self._policy = policy
        self._clock = clock
        self._monotonic = monotonic

    def start(self, tenant_id: str, fmt: ImportFormat, body: bytes, client_token: str | None,
              created_by: str) -> Started:
        """Read the rows, store them in chunks with the import, then run chunks until done or out of the budget.

        From the moment the import is stored (leased to this request), a crash or a
        timeout only delays it: the per-minute schedule takes over once the lease ends.
        """
        deadline = self._monotonic() + self._policy.budget_s
        now = self._clock()
        claim = None
        if client_token:
            digest = hashlib.sha256(fmt.value.encode() + b"\n" + body).hexdigest()
            claim = IdempotencyClaim(IDEMPOTENCY_SCOPE, tenant_id, client_token, digest, "",
                                     now + self._policy.idempotency_ttl)
            earlier = self._idempotency.get(IDEMPOTENCY_SCOPE, tenant_id, client_token, now)
            if earlier is not None:  # a retry: answer the first import without reading the body again
                return Started(self._replay(claim, ClientTokenTaken(earlier)), replayed=True)
        parsed = parse(body, fmt, self._policy.max_rows)
        from ulid import ULID

        import_id = str(ULID.from_datetime(now)).lower()
        if claim is not None:
            claim = IdempotencyClaim(claim.scope, tenant_id, claim.client_token, claim.fingerprint, import_id,
                                     claim.expires_at)
        record = DeviceImport(import_id=import_id, tenant_id=tenant_id, format=fmt, rows=len(parsed.rows),
                              created_at=now, created_by=created_by, client_token=client_token)
        plan = ImportPlan(record, _cut(parsed.rows, self._policy.chunk), now + self._policy.retention)
        try:
            self._imports.create(plan, schedule_shard(import_id, self._policy.shards), now + self._policy.lease, claim)
        except ClientTokenTaken as taken:
            assert claim is not None  # only a claim can be taken
            return Started(self._replay(claim, taken), replayed=True)
        logger.info("device import started", tenant=tenant_id, import_id=import_id, rows=record.rows,
                    chunks=len(plan.chunks), refused_on_reading=parsed.refused, outcome="started")
        try:
            self.run(tenant_id, import_id, 0, deadline)
        except Exception:  # the import is committed and leased: the schedule resumes it, as after a timeout
            logger.exception("import interrupted; the schedule resumes it", tenant=tenant_id, import_id=import_id,
                             outcome="interrupted")
        return Started(self._imports.get(tenant_id, import_id))

    def run(self, tenant_id: str, import_id: str, number: int, deadline: float) -> bool:
        """Do chunk after chunk from `number` until the import completes (True), is taken over, or `deadline` passes."""
        record, starts, _ = self._imports.get_with_chunks(tenant_id, import_id)
        chunks = len(starts)
        while True:
            chunk = self._imports.chunk(tenant_id, import_id, number)
            done = self._chunks.run(tenant_id, import_id, chunk, record.created_by)
            last = number + 1 >= chunks
            out_of_time = self._monotonic() >= deadline
            now = self._clock()
            # Out of time: hand the rest to the schedule at once instead of holding the lease.
            lease_until = now if out_of_time else now + self._policy.lease
            if not self._imports.finish_chunk(tenant_id, import_id, number, done, last, now, lease_until,
                                              now + self._policy.credentials_ttl):
                return False  # another runner took the walk over (it stores this chunk's results)
            if last:
                self._imports.settle(tenant_id, import_id)
                logger.info("device import completed", tenant=tenant_id, import_id=import_id, outcome="completed")
                return True
            if out_of_time:
                logger.info("import out of time; the schedule resumes it", tenant=tenant_id, import_id=import_id,
                            outcome="backlog")
                return False
            number += 1

    def get(self, tenant_id: str, import_id: str, limit: int, next_token: str | None,
            outcome: RowOutcome | None = None) -> ImportView:
        """The import, its counts, and a page of its rows' results in row order (404 if foreign).

        `next_token` is the row number the previous page ended at; rows not done yet are not listed.
        """
        record, starts, done_chunks = self._imports.get_with_chunks(tenant_id, import_id)
        after = _row_cursor(next_token, record.rows)
        results: list[RowResult] = []
        number = max(0, _chunk_of(starts, after + 1))
        reads = 0
        last_row = after
        while number < done_chunks and len(results) < limit and reads < MAX_CHUNK_READS:
            stored = self._imports.results(tenant_id, import_id, number) or []
            reads += 1
            for r in stored:
                if r["row"] <= after:
                    continue
                if outcome is None or r["outcome"] == outcome.value:
                    results.append(RowResult.model_validate(r))
                last_row = r["row"]
                if len(results) == limit:
                    break
            number += 1
        more = last_row < record.rows and (number < done_chunks or len(results) == limit)
        return ImportView(**record.model_dump(), results=results, next_token=str(last_row) if more else None)

    def list_page(self, tenant_id: str, limit: int, next_token: str | None) -> Page[DeviceImport]:
        """The tenant's imports, newest first."""
        return self._imports.list_page(tenant_id, limit, next_token)

    def download(self, tenant_id: str, import_id: str) -> list[ImportCredential]:
        """The created devices' provision tokens (and the certificates rows asked for), once; then they are erased
        (409 on any later call)."""
        record = self._imports.get(tenant_id, import_id)
        now = self._clock()
        if record.status is not ImportStatus.COMPLETED:
            raise Conflict(f"import {import_id} is still running: its credentials are downloadable once it completes",
                           field="import_id", status=record.status.value)
        if record.credentials is CredentialsState.AVAILABLE and record.credentials_expire_at is not None \
                and record.credentials_expire_at <= now:
            raise Conflict(f"the credentials of import {import_id} expired unread: rotate the devices' tokens",
                           field="import_id", credentials=CredentialsState.EXPIRED.value)
        if record.credentials is not CredentialsState.AVAILABLE:
            raise Conflict(_GONE[record.credentials].format(import_id=import_id), field="import_id",
                           credentials=record.credentials.value)
        stored = self._imports.credentials(tenant_id, import_id)
        if not self._imports.take_credentials(tenant_id, import_id, now):
            raise Conflict(_GONE[CredentialsState.DOWNLOADED].format(import_id=import_id), field="import_id",
                           credentials=CredentialsState.DOWNLOADED.value)
        try:
            self._imports.erase_credentials(tenant_id, import_id)
            self._imports.settle(tenant_id, import_id)
        except Exception:  # the import stays due: the schedule erases them
            logger.exception("credential erase failed; the schedule erases them", tenant=tenant_id,
                             import_id=import_id, outcome="deferred")
        logger.info("import credentials downloaded", tenant=tenant_id, import_id=import_id, count=len(stored),
                    outcome="downloaded")
        return [_credential(tenant_id, held) for held in stored]

    def run_due(self, now: datetime, budget_s: float) -> ImportReport:
        """The scheduled work: resume imports whose runner went quiet, erase credentials downloaded or expired."""
        report = ImportReport()
        deadline = self._monotonic() + budget_s

        def handle(due: tuple[str, str]) -> Outcome:
            tenant_id, import_id = due
            state = self._imports.state(tenant_id, import_id)
            if state is None:
                return Outcome.SKIPPED
            if state.status == ImportStatus.COMPLETED.value:
                return self._expire(tenant_id, import_id, now, report)
            number = int(state.next_chunk)
            until = max(now, self._clock()) + self._policy.lease
            if not self._imports.claim(tenant_id, import_id, number, now, until):
                return Outcome.SKIPPED  # another runner has it
            report.resumed += 1
            try:
                complete = self.run(tenant_id, import_id, number, deadline)
            except Exception:  # one import's failure must not hold up the others; its lease retries it
                logger.exception("resumed import failed; retried when its lease ends", tenant=tenant_id,
                                 import_id=import_id, outcome="failed")
                return Outcome.LEFT
            report.completed += complete
            return Outcome.DONE if complete else Outcome.LEFT

        runner = SweepRunner(self._policy.shards, self._monotonic)
        return runner.run(report, lambda shard: self._imports.due(shard, now, DUE_PAGE), handle,
                          key=lambda due: "/".join(due), deadline=deadline)

    def _expire(self, tenant_id: str, import_id: str, now: datetime, report: ImportReport) -> Outcome:
        """A completed import is due when its credentials expire, or were taken but maybe not erased."""
        self._imports.take_credentials(tenant_id, import_id, now, expired=True)
        self._imports.erase_credentials(tenant_id, import_id)
        self._imports.settle(tenant_id, import_id)
        report.erased += 1
        return Outcome.DONE

    def _replay(self, claim: IdempotencyClaim, taken: ClientTokenTaken) -> DeviceImport:
        return self._imports.get(claim.tenant_id, replayed_id(claim, taken, "import", "import_id"))


_GONE = {
    CredentialsState.NONE: "import {import_id} created no device: there are no credentials to download",
    CredentialsState.PENDING: "import {import_id} is still running",
    CredentialsState.DOWNLOADED: "the credentials of import {import_id} were downloaded already: they are shown "
                                 "once (rotate a device's token to get a new one)",
    CredentialsState.EXPIRED: "the credentials of import {import_id} expired unread: rotate the devices' tokens",
}


def _credential(tenant_id: str, held: list[str]) -> ImportCredential:
    """[device_id, token] or [device_id, token, certificate_id, certificate_pem, private_key_pem] as downloaded."""
    device_id, token, *certificate = held
    found = dict(zip(("certificate_id", "certificate_pem", "private_key_pem"), certificate, strict=False))
    return ImportCredential(device_id=device_id, mqtt_username=mqtt_username(tenant_id, device_id),
                            provision_token=token, **found)


def _cut(rows: list[StoredRow], chunk: int) -> list[list[StoredRow]]:
    """Rows in chunks of at most `chunk` rows and CHUNK_MAX_BYTES of input (and certificates held) each."""
    import json

    chunks: list[list[StoredRow]] = []
    current: list[StoredRow] = []
    size = 0
    for row in rows:
        row_size = len(json.dumps(row, separators=(",", ":"))) + (HELD_BYTES if row.get("certificate") else 0)
        if current and (len(current) >= chunk or size + row_size > CHUNK_MAX_BYTES):
            chunks.append(current)
            current, size = [], 0
        current.append(row)
        size += row_size
    chunks.append(current)
    return chunks


def _chunk_of(starts: list[int], row: int) -> int:
    """The chunk holding `row` (the last chunk starting at or before it)."""
    import bisect

    return bisect.bisect_right(starts, row) - 1


def _row_cursor(next_token: str | None, rows: int) -> int:
    """The row number a results page starts after (400 naming next_token when it is not one)."""
    if next_token is None:
        return 0
    if not next_token.isdigit() or len(next_token) > 7 or int(next_token) > rows:
        raise InvalidInput("next_token is not a cursor of this import", field="next_token")
    return int(next_token)
