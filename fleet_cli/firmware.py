"""`fleet firmware`: upload an image (with a progress bar), list artifacts and versions, roll one out."""
from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any, BinaryIO

import requests
import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from fleet_cli.app import api
from fleet_cli.client import resource
from fleet_cli.errors import OutcomeError, TransportError
from fleet_cli.jobs import INTERVAL, WAIT_TIMEOUT, _follow, _print_job, _rollout_options
from fleet_cli.options import JSON, LIMIT
from fleet_cli.output import console, note, print_items, print_result

app = typer.Typer(no_args_is_help=True, help="Firmware images: upload, list, roll out to a group.")

COLUMNS = ("firmware_id", "version", "device_model", "status", "size_bytes", "sha256", "created_at")
FIELDS = ("firmware_id", "version", "device_model", "status", "size_bytes", "sha256", "reason", "notes",
          "created_at", "completed_at", "in_use_until")
CHUNK = 256 * 1024


class _Reading:
    """A file read in chunks for the upload, moving a progress bar (its length is known: no chunked encoding)."""

    def __init__(self, handle: BinaryIO, size: int, advance: Any) -> None:
        self._handle, self._size, self._advance = handle, size, advance

    def __len__(self) -> int:
        return self._size

    def read(self, amount: int = -1) -> bytes:
        data = self._handle.read(CHUNK if amount is None or amount < 0 else min(amount, CHUNK))
        self._advance(len(data))
        return data


def _digest(path: Path) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


@app.command()
def upload(
    image: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="the firmware image file"),
    version: str = typer.Option(..., "--version", help="the version the image installs, e.g. 1.4.0"),
    model: str = typer.Option(..., "--model", help="the device model it is built for"),
    notes: str | None = typer.Option(None, "--notes", help="release notes"),
    as_json: bool = JSON,
) -> None:
    """Upload an image: its SHA-256 and size are signed into the upload, then the platform checks them again."""
    sha256, size = _digest(image)
    client = api()
    ticket = client.post("/customer/firmware", {"version": version, "device_model": model, "notes": notes,
                                                "size_bytes": size, "sha256": sha256})
    firmware_id = ticket["firmware"]["firmware_id"]
    progress = Progress(TextColumn("upload"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                        console=console(stderr=True))
    with progress, image.open("rb") as handle:
        task = progress.add_task("upload", total=size)
        body = _Reading(handle, size, lambda n: progress.advance(task, n))
        try:
            resp = requests.put(ticket["upload_url"], data=body, timeout=600,
                                headers={**ticket.get("upload_headers", {}), "Content-Length": str(size)})
        except requests.RequestException as exc:
            raise TransportError(f"upload of {firmware_id} failed: {type(exc).__name__}") from exc
    if resp.status_code >= 300:
        raise OutcomeError(f"the storage refused the upload of {firmware_id}: HTTP {resp.status_code}")
    done = client.post(resource("customer", "firmware", firmware_id, "complete"))
    print_result(done, as_json, FIELDS)
    if done.get("status") != "ready":
        raise OutcomeError(f"firmware {firmware_id} was {done.get('status')}: {done.get('reason')}")


@app.command("list")
def list_cmd(
    status: str | None = typer.Option(None, "--status", help="pending_upload, ready or rejected"),
    limit: int | None = LIMIT,
    as_json: bool = JSON,
) -> None:
    """Firmware artifacts with their checksums (every page, streamed)."""
    print_items(api().items("/customer/firmware", "firmware", {"status": status}, limit), COLUMNS, as_json)


@app.command()
def versions(group: str | None = typer.Option(None, "--group", help="one group instead of the fleet"),
             as_json: bool = JSON) -> None:
    """Devices per reported firmware version (the twin's reported.firmware_version)."""
    counts = api().get("/customer/firmware-versions", **({"group_id": group} if group else {}))
    rows = [{"version": v, "devices": n} for v, n in counts["versions"].items()]
    print_items(rows, ("version", "devices"), as_json)


@app.command()
def rollout(
    firmware_id: str,
    group: str = typer.Option(..., "--group", help="the group to update"),
    rate: int | None = typer.Option(None, "--rate", min=1, max=1000, help="devices released per minute"),
    abort: list[str] = typer.Option([], "--abort", help="TYPE:PERCENT:MIN_EXECUTED, e.g. FAILED:10:5; repeatable"),
    timeout_minutes: int | None = typer.Option(None, "--timeout-minutes", min=1, max=10080,
                                               help="an update not finished in time is TIMED_OUT"),
    wait: bool = typer.Option(False, "--wait", help="show progress until the rollout is final"),
    timeout: float = WAIT_TIMEOUT,
    interval: float = INTERVAL,
    as_json: bool = JSON,
) -> None:
    """Roll an artifact out to a group as an update_firmware job (each device gets its own download URL)."""
    body: dict[str, Any] = {"document_type": "update_firmware", "document_params": {"firmware_id": firmware_id},
                            "target_group_id": group, "client_token": uuid.uuid4().hex}
    body.update(_rollout_options(rate, None, abort, timeout_minutes, False))
    client = api()
    job = client.post("/customer/jobs", body, replayable=True)
    if not wait:
        _print_job(job, as_json)
        return
    note(f"rollout {job['job_id']}: {job.get('execution_count', 0)} devices")
    _follow(client, job["job_id"], timeout, interval, as_json)
