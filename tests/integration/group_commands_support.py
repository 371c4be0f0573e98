"""Helpers of the group and site command tests: seeded fleets and batch reads."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.commands.batches.members import BatchMemberReader
from chalicelib.commands.batches.schedule import command_batches
from chalicelib.commands.batches.schemas import BatchTarget
from chalicelib.commands.batches.service import CommandBatchService, MemberSource
from chalicelib.commands.batches.store import BatchRepository
from chalicelib.commands.batches.targets import GroupMembers, SiteMembers
from chalicelib.container import container
from chalicelib.core.clock import utcnow
from chalicelib.core.policies import BatchPolicy
from chalicelib.core.storage.batch import BatchWriter, model_sender
from chalicelib.devices.models import DeviceModel
from chalicelib.groups.store import GroupModel, MembershipModel, device_key, member_key
from chalicelib.jobs.targets import TargetReader
from infra.local.scheduler import scheduled_event
from tests.stack_support import wait_for
from tests.support import Api


def seed_group(tenant_id: str, group_id: str, n: int, prefix: str = "dev",
               disabled: frozenset[str] = frozenset()) -> list[str]:
    """n devices (those in `disabled` disabled, the others active), all members of a new group.

    Written with batch writes: the registry routes have their own tests, and a thousand
    registrations through them would be most of this test's time.
    """
    now = datetime.now(UTC)
    ids = [f"{prefix}-{i:05d}" for i in range(n)]
    BatchWriter(model_sender(DeviceModel), workers=4).write(puts=(
        DeviceModel(tenant_id, d, attributes={}, status="disabled" if d in disabled else "active", created_at=now,
                    token_hash=f"seed-{d}").serialize()
        for d in ids))
    BatchWriter(model_sender(MembershipModel), workers=4).write(puts=(
        MembershipModel(member_key(tenant_id, group_id), d, device_key=device_key(tenant_id, d), group_id=group_id,
                        added_at=now).serialize() for d in ids))
    GroupModel(tenant_id, group_id, name=group_id, member_count=n, created_at=now).save()
    return ids


def all_commands(api: Api, batch_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """Every command of a batch, following next_token."""
    found: list[dict[str, Any]] = []
    token = None
    while True:
        query = f"?limit={limit}" + (f"&next_token={token}" if token else "")
        resp = api.get(f"/customer/command-batches/{batch_id}{query}")
        assert resp.status == 200, resp.body
        found += resp.body["commands"]
        token = resp.body["next_token"]
        if not token:
            return found


def send_group(api: Api, group_id: str, body: dict[str, Any] | None = None, status: int = 202) -> dict[str, Any]:
    """POST a group command that must be accepted, and the batch once the run the POST started has sent it
    (the POST answers before any chunk is sent); a replay (200) as answered."""
    resp = api.post(f"/customer/groups/{group_id}/commands", body or {"command_type": "capture_image"})
    assert resp.status == status, resp.body
    return finish(api, dict(resp.body)) if status == 202 else dict(resp.body)


def finish(api: Api, batch: dict[str, Any], runs: int = 5, wait_s: float = 120) -> dict[str, Any]:
    """The batch once sent: what the POST had no time for, the run it started finishes.

    Waits (bounded) for that run; only a batch still sending after it (the run died) gets
    the per-minute schedule, fired as EventBridge would, past the lease, until it is sent.
    """
    def current() -> dict[str, Any]:
        return dict(api.get(f"/customer/command-batches/{batch['batch_id']}?limit=1").body)

    wait_for(lambda: current()["status"] == "sent", wait_s, step=0.1)
    for _ in range(runs):
        now = current()
        if now["status"] == "sent":
            return now
        report = command_batches(scheduled_event(datetime.now(UTC) + timedelta(minutes=5)), None)
        assert "error" not in report, report
    raise AssertionError(f"batch {batch['batch_id']} not sent after {runs} scheduled runs")


def batch_service(chunk: int, budget_s: float, commands: Any = None, clock: Any = utcnow,
                  first_chunk: int = 100, kick: Callable[[], None] | None = None,
                  groups: Callable[[MemberSource], MemberSource] = lambda source: source) -> CommandBatchService:
    """The stage's batch service with its own chunk and budget (and, where a test needs them, commands, clock,
    a first chunk, a kick and a wrapper of the group member source)."""
    c = container()
    policy = BatchPolicy(chunk=chunk, first_chunk=first_chunk, budget_s=budget_s, lease=timedelta(seconds=60))
    sources: dict[BatchTarget, MemberSource] = {
        BatchTarget.GROUP: groups(GroupMembers(c.group_repository, TargetReader(1))),
        BatchTarget.SITE: SiteMembers(c.site_repository, c.site_device_repository),
    }
    return CommandBatchService(BatchRepository(c.idempotency_store, timedelta(days=1)), BatchMemberReader(),
                               commands or c.command_service, sources, policy, clock=clock, kick=kick)
