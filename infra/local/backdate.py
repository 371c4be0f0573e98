"""`make backdate ARGS="job demo JOB_ID --tick"`: move an expiry into the past on the running local stack.

The seeds test expiry by back-dating `expires_at` in the database and waiting for the
worker. Here the per-minute functions find due work through sparse sharded indexes, so
the index attributes must move with `expires_at`: this goes through the repositories,
which change both in one conditional write (a queued command, an IN_PROGRESS job only).
`--tick` then fires the matching scheduled function in-process instead of waiting a minute.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pynamodb.exceptions import PynamoDBConnectionError

from app import app
from chalicelib.commands.models import CommandRef
from chalicelib.container import container, rebuild
from chalicelib.core.clock import iso, utcnow
from chalicelib.core.errors import DomainError
from infra.local.scheduler import scheduled_event, scheduled_functions

STACK_DIR = Path(os.environ.get("STACK_DIR", Path(__file__).resolve().parents[2] / ".devstack"))
# The scheduled function that closes each kind of back-dated item.
TICKS = {"command": "commands_expiry", "job": "jobs_sweep"}
# A command's history is purged this long after expiry: a week back stays far inside it.
MAX_MINUTES_AGO = 7 * 24 * 60


@dataclass(frozen=True)
class Backdated:
    """What the tool did: the item, its new expiry, its status afterwards, the tick's report if fired."""

    kind: str
    item_id: str
    expires_at: datetime
    status: str
    counts: dict[str, int]
    tick: dict[str, Any] | None = None

    def summary(self) -> str:
        """The lines the command line prints."""
        lines = [f"{self.kind} {self.item_id}: expires_at {iso(self.expires_at)}"]
        if self.tick is None:
            lines.append(f"status: {self.status} (the next per-minute {TICKS[self.kind]} closes it; "
                         "--tick fires it now)")
        else:
            lines.append(f"{TICKS[self.kind]}: {self.tick}")
            executions = ", ".join(f"{status}={n}" for status, n in self.counts.items() if n)
            lines.append(f"job: {self.status} | executions: {executions}" if self.kind == "job"
                         else f"status: {self.status}")
        return "\n".join(lines)


def minutes_ago(raw: str) -> int:
    """Parse --minutes-ago: whole minutes, at least 1, at most a week."""
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_MINUTES_AGO:
        raise argparse.ArgumentTypeError(f"expected whole minutes from 1 to {MAX_MINUTES_AGO}, got {raw!r}")
    return value


def parser() -> argparse.ArgumentParser:
    """The command line: `command TENANT DEVICE_ID COMMAND_ID` or `job TENANT JOB_ID`."""
    cli = argparse.ArgumentParser(prog="python -m infra.local.backdate",
                                  description="Back-date a command or job of the running local stack.")
    kinds = cli.add_subparsers(dest="kind", required=True)
    command = kinds.add_parser("command", help="a queued command")
    command.add_argument("tenant")
    command.add_argument("device_id")
    command.add_argument("command_id")
    job = kinds.add_parser("job", help="an IN_PROGRESS job")
    job.add_argument("tenant")
    job.add_argument("job_id")
    for sub in (command, job):
        sub.add_argument("--minutes-ago", type=minutes_ago, default=1, metavar="N",
                         help="new expires_at = now - N minutes (default 1)")
        sub.add_argument("--tick", action="store_true", help="fire the expiry function once, now, in-process")
    return cli


def fire(name: str, now: datetime) -> dict[str, Any]:
    """Fire one scheduled function of the app in-process, as the local scheduler does."""
    return dict(scheduled_functions(app)[name](scheduled_event(now), None))


def run(argv: Sequence[str], clock: Callable[[], datetime] = utcnow) -> Backdated:
    """Back-date one command or job with this process's settings; raises NotFound or Conflict if refused."""
    args = parser().parse_args(list(argv))
    expires_at = clock() - timedelta(minutes=args.minutes_ago)
    if args.kind == "command":
        ref = CommandRef(args.tenant, args.device_id, args.command_id)
        commands = container().command_repository
        command = commands.backdate_expiry(ref, expires_at)
        tick = fire(TICKS["command"], clock()) if args.tick else None
        after = commands.get(ref) if tick is not None else command
        return Backdated("command", ref.command_id, expires_at, after.status.value if after else "deleted", {}, tick)
    jobs = container().job_repository
    jobs.backdate_expiry(args.tenant, args.job_id, expires_at)
    tick = fire(TICKS["job"], clock()) if args.tick else None
    job = jobs.get(args.tenant, args.job_id).job
    return Backdated("job", job.job_id, expires_at, job.status.value,
                     {status.value: n for status, n in job.counts.items()}, tick)


def stack_env(environ: Mapping[str, str], state: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The running `make run` stack's DynamoDB settings (its stack.json), unless the environment names others."""
    database = (state or {}).get("database") or {}
    return {
        "FLEET_DDB_ENDPOINT": environ.get("FLEET_DDB_ENDPOINT") or database.get("endpoint")
        or f"http://127.0.0.1:{environ.get('DDB_PORT') or 8001}",
        "FLEET_TABLE_PREFIX": environ.get("FLEET_TABLE_PREFIX") or database.get("table_prefix") or "fleet-local",
        "AWS_ACCESS_KEY_ID": environ.get("AWS_ACCESS_KEY_ID") or "local",
        "AWS_SECRET_ACCESS_KEY": environ.get("AWS_SECRET_ACCESS_KEY") or "local",
        "AWS_DEFAULT_REGION": environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        # The expiry functions never publish, and the stack's broker password is not ours to know.
        "FLEET_MQTT_BACKEND": "none",
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: target the running stack, back-date, print the outcome (exit 1 when refused)."""
    args = list(sys.argv[1:] if argv is None else argv)
    parser().parse_args(args)  # usage errors and --help before any stack check
    state_file = STACK_DIR / "stack.json"
    if not os.environ.get("FLEET_DDB_ENDPOINT") and not state_file.exists():
        sys.exit("no local stack running: start it with `make run` first (or set FLEET_DDB_ENDPOINT)")
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    os.environ.update(stack_env(os.environ, state))
    rebuild()
    try:
        outcome = run(args)
    except DomainError as exc:
        sys.exit(f"backdate refused ({exc.code}): {exc.message}")
    except PynamoDBConnectionError as exc:  # unreachable endpoint, or no such tables there
        sys.exit(f"DynamoDB at {os.environ['FLEET_DDB_ENDPOINT']} (tables {os.environ['FLEET_TABLE_PREFIX']}-*) "
                 f"failed: {exc}")
    print(outcome.summary())


if __name__ == "__main__":
    main()
