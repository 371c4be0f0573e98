"""`fleet jobs`: create (and follow with progress bars), list, show, cancel."""
from __future__ import annotations

import itertools
import uuid
from typing import Any

import typer

from fleet_cli.app import api, json_option
from fleet_cli.client import FleetClient, resource
from fleet_cli.errors import OutcomeError
from fleet_cli.options import JSON, LIMIT
from fleet_cli.output import note, print_items, print_json, print_record, stream_table
from fleet_cli.waiting import follow_job

app = typer.Typer(no_args_is_help=True, help="Jobs rolled out to a device, a group or the whole fleet.")

COLUMNS = ("job_id", "document_type", "target_type", "target_id", "status", "execution_count", "created_at")
EXECUTION_COLUMNS = ("device_id", "status", "status_details", "updated_at")
JOB_FIELDS = ("job_id", "status", "document_type", "document_params", "target_type", "target_id",
              "execution_count", "counts", "created_at", "created_by", "expires_at", "completed_at", "canceled_at",
              "target_selection", "rollout", "rollout_progress", "abort", "in_progress_timeout_minutes", "aborted",
              "reason")
UNSUCCESSFUL = ("FAILED", "TIMED_OUT", "REJECTED")
WAIT_TIMEOUT = typer.Option(600.0, "--wait-timeout", min=0.1, help="seconds --wait waits")
INTERVAL = typer.Option(1.0, "--interval", min=0.05, help="seconds between polls")


def _path(job_id: str) -> str:
    return resource("customer", "jobs", job_id)


@app.command()
def create(
    job_type: str = typer.Option(..., "--type", help="document type, e.g. update_config"),
    device: str | None = typer.Option(None, "--device", help="target one device"),
    group: str | None = typer.Option(None, "--group", help="target every member of a group"),
    all_devices: bool = typer.Option(False, "--all", help="target the whole fleet"),
    params: str | None = typer.Option(None, "--params", help="document parameters, a JSON object"),
    expires: int | None = typer.Option(None, "--expires", min=1, help="hours until open executions time out"),
    client_token: str | None = typer.Option(None, "--client-token",
                                            help="idempotency key (default: a fresh one; retries never create twice)"),
    rate: int | None = typer.Option(None, "--rate", min=1, max=1000, help="devices notified per minute"),
    rollout: str | None = typer.Option(None, "--rollout", help="the whole rollout object as JSON "
                                       "(max_per_minute, exponential); overrides --rate"),
    abort: list[str] = typer.Option([], "--abort", help="TYPE:PERCENT:MIN_EXECUTED, e.g. FAILED:20:10 "
                                    "(TYPE: FAILED, REJECTED, TIMED_OUT or ALL); repeatable"),
    timeout_minutes: int | None = typer.Option(None, "--timeout-minutes", min=1, max=10080,
                                               help="an IN_PROGRESS execution not finished in time is TIMED_OUT"),
    continuous: bool = typer.Option(False, "--continuous", help="devices joining the group (or fleet) later "
                                    "get the job too; it stays IN_PROGRESS until canceled"),
    wait: bool = typer.Option(False, "--wait", help="show progress until the job is final"),
    timeout: float = WAIT_TIMEOUT,
    interval: float = INTERVAL,
    as_json: bool = JSON,
) -> None:
    """Create a job for exactly one of --device, --group, --all.

    With --wait: exit 3 if any execution ends FAILED, TIMED_OUT or REJECTED (or the job is
    canceled), 4 if the wait runs out.
    """
    if sum((device is not None, group is not None, all_devices)) != 1:
        raise typer.BadParameter("give exactly one of --device, --group, --all", param_hint="target")
    body: dict[str, Any] = {"document_type": job_type, "document_params": json_option(params, "--params") or {},
                            "client_token": client_token or uuid.uuid4().hex}
    if device is not None:
        body["target_device_id"] = device
    elif group is not None:
        body["target_group_id"] = group
    else:
        body["target_all"] = True
    if expires is not None:
        body["expires_in_hours"] = expires
    body.update(_rollout_options(rate, json_option(rollout, "--rollout"), abort, timeout_minutes, continuous))
    client = api()
    job = client.post("/customer/jobs", body, replayable=True)
    if not wait:
        _print_job(job, as_json)
        return
    note(f"job {job['job_id']}: {job.get('execution_count', 0)} executions")
    _follow(client, job["job_id"], timeout, interval, as_json)


def _rollout_options(rate: int | None, rollout: Any, abort: list[str], timeout_minutes: int | None,
                     continuous: bool) -> dict[str, Any]:
    """The rollout, abort, timeout and continuous fields of a create body (the API validates them)."""
    options: dict[str, Any] = {}
    if rollout is not None:
        options["rollout"] = rollout
    elif rate is not None:
        options["rollout"] = {"max_per_minute": rate}
    criteria = []
    for spec in abort:
        parts = spec.split(":")
        try:
            failure_type, percent, minimum = parts
            criteria.append({"failure_type": failure_type.upper(), "threshold_percentage": float(percent),
                             "min_executed": int(minimum), "action": "CANCEL"})
        except ValueError as exc:
            raise typer.BadParameter(f"{spec!r}: expected TYPE:PERCENT:MIN_EXECUTED", param_hint="--abort") from exc
    if criteria:
        options["abort"] = criteria
    if timeout_minutes is not None:
        options["in_progress_timeout_minutes"] = timeout_minutes
    if continuous:
        options["target_selection"] = "CONTINUOUS"
    return options


@app.command("list")
def list_cmd(
    status: str | None = typer.Option(None, "--status", help="IN_PROGRESS, COMPLETED or CANCELED"),
    limit: int | None = LIMIT,
    as_json: bool = JSON,
) -> None:
    """Jobs, newest first (every page, streamed)."""
    jobs = api().items("/customer/jobs", "jobs", {"status": status}, limit)
    print_items(jobs, COLUMNS, as_json)


@app.command()
def show(
    job_id: str,
    wait: bool = typer.Option(False, "--wait", help="show progress until the job is final"),
    timeout: float = WAIT_TIMEOUT,
    interval: float = INTERVAL,
    as_json: bool = JSON,
) -> None:
    """A job with its counts and every execution (all pages)."""
    client = api()
    if wait:
        _follow(client, job_id, timeout, interval, as_json)
        return
    _print_job(_with_executions(client, job_id), as_json)


@app.command()
def cancel(job_id: str, as_json: bool = JSON) -> None:
    """Cancel a job: queued executions become REJECTED; running ones may still finish."""
    _print_job(api().delete(_path(job_id)), as_json)


def _follow(client: FleetClient, job_id: str, timeout: float, interval: float, as_json: bool) -> None:
    final = follow_job(lambda: client.get(_path(job_id), limit=1), timeout=timeout, interval=interval)
    job = _with_executions(client, job_id) if final.get("status") != "IN_PROGRESS" else final
    _print_job(job, as_json)
    counts = job.get("counts") or {}
    bad = {s: counts[s] for s in UNSUCCESSFUL if counts.get(s)}
    if job.get("status") != "COMPLETED" or bad:
        detail = ", ".join(f"{s}={n}" for s, n in bad.items())
        raise OutcomeError(f"job {job_id} ended {job.get('status')}" + (f" with {detail}" if detail else ""))


def _with_executions(client: FleetClient, job_id: str) -> dict[str, Any]:
    """The job as GET answers it, with the executions of every page in one list."""
    pages = client.pages(_path(job_id), "executions")
    first = next(pages)
    executions = list(itertools.chain(first.get("executions") or [],
                                      *(page.get("executions") or [] for page in pages)))
    return {**first, "executions": executions, "next_token": None}


def _print_job(job: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(job)
        return
    print_record(job, JOB_FIELDS)
    if "executions" in job:
        stream_table(job["executions"], EXECUTION_COLUMNS, title="executions")
