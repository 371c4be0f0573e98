"""`fleet devices import`: a CSV or JSON lines file of devices, followed to the end, credentials saved once."""
from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fleet_cli.app import api
from fleet_cli.client import FleetClient, resource
from fleet_cli.commands import WAIT_TIMEOUT
from fleet_cli.errors import OutcomeError, UsageError
from fleet_cli.options import JSON
from fleet_cli.output import console, note, print_json, print_record, stream_table
from fleet_cli.waiting import poll

CONTENT_TYPES = {".csv": "text/csv", ".jsonl": "application/x-ndjson", ".ndjson": "application/x-ndjson"}
RESULT_COLUMNS = ("row", "device_id", "reason", "field")
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
CERTIFICATE_ID = re.compile(r"[0-9a-f]{16,64}")
SUMMARY = ("import_id", "status", "rows", "created", "existed", "refused", "credentials")


def import_cmd(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="a .csv (header: device_id,name,attributes,groups,site,certificate) or "
                                     ".jsonl file; a row with certificate true/yes/1 also gets an X.509 certificate"),
    certs: Path | None = typer.Option(None, "--certs", file_okay=False,
                                      help="save each created device's token, and the certificate and key of a row "
                                           "that asked for one, here (implies --wait)"),
    x509: bool = typer.Option(False, "--x509", help="with --certs: also issue every other created device an X.509 "
                                                    "certificate and save DEVICE.cert.pem and DEVICE.key.pem"),
    wait: bool = typer.Option(False, "--wait", help="follow the import with a progress bar until it completes"),
    client_token: str | None = typer.Option(None, "--client-token",
                                            help="makes a retried import return the first (default: a fresh one)"),
    timeout: float = WAIT_TIMEOUT,
    interval: float = typer.Option(1.0, "--interval", min=0.05, help="seconds between polls"),
    as_json: bool = JSON,
) -> None:
    """Import devices from a file. With --wait, list the refused rows and exit 3 if there are any."""
    content_type = CONTENT_TYPES.get(path.suffix.lower())
    if content_type is None:
        raise UsageError(f"{path.name}: the file must end in .csv, .jsonl or .ndjson")
    if x509 and certs is None:
        raise UsageError("--x509 needs --certs DIR (the folder the keys are written to)")
    client = api()
    resp = client.request("POST", "/customer/device-imports", data=path.read_bytes(), content_type=content_type,
                          params={"client_token": client_token or uuid.uuid4().hex}, replayable=True)
    record: dict[str, Any] = resp.json()
    if wait or certs is not None:
        record = _follow(client, record, timeout, interval)
    if certs is not None:
        created, with_certs = _save_credentials(client, record, certs)
        note(f"saved {len(created)} credentials ({len(with_certs)} with a certificate) to {certs}/ "
             "(they cannot be downloaded again)")
        if x509:
            issued = _issue_certificates(client, [d for d in created if d not in with_certs], certs)
            note(f"issued {issued} certificates into {certs}/ (their keys exist nowhere else)")
    summary = {k: record.get(k) for k in SUMMARY}
    if as_json:
        print_json(summary)
    else:
        print_record(summary)
    if record.get("status") == "completed" and record.get("refused"):
        refused = client.items(resource("customer", "device-imports", record["import_id"]), "results",
                               {"outcome": "refused"})
        if not as_json:
            stream_table(refused, RESULT_COLUMNS, title="refused rows")
        raise OutcomeError(f"import {record['import_id']}: {record['refused']} of {record['rows']} rows refused")


def _follow(client: FleetClient, record: dict[str, Any], timeout: float, interval: float) -> dict[str, Any]:
    """Poll the import under a progress bar of rows done, until it completes."""
    path = resource("customer", "device-imports", record["import_id"])
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console(stderr=True))
    task = progress.add_task("rows", total=int(record["rows"]))

    def update(current: dict[str, Any]) -> None:
        done = sum(int(current.get(k) or 0) for k in ("created", "existed", "refused"))
        progress.update(task, completed=done, description=f"rows ({current.get('created', 0)} created)")

    def fetch() -> dict[str, Any]:
        return dict(client.get(path, limit=1))

    with progress:
        return poll(fetch, lambda r: r.get("status") == "completed", timeout=timeout, interval=interval,
                    what=f"import {record['import_id']}", on_update=update)


def _save_credentials(client: FleetClient, record: dict[str, Any], folder: Path) -> tuple[list[str], set[str]]:
    """Download the credentials (once) into `folder`, readable by the owner only: one `<device_id>.token` per device,
    and `<device_id>.cert.pem` and `.key.pem` of each row that asked for a certificate; the devices they are of,
    and those that came with a certificate."""
    if not record.get("created"):
        return [], set()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    answer = client.post(resource("customer", "device-imports", record["import_id"], "credentials"))
    for credential in answer["credentials"]:
        if not SAFE_NAME.fullmatch(credential["device_id"]):  # never a path outside the folder
            raise UsageError(f"refusing to write a credential for the device id {credential['device_id']!r}")
        target = folder / f"{credential['device_id']}.token"
        # Created with the final mode at once: a token never sits in a file others may read.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(credential["provision_token"] + "\n")
        if credential.get("certificate_pem") and credential.get("private_key_pem"):
            _save_certificate(folder, credential)
    return ([c["device_id"] for c in answer["credentials"]],
            {c["device_id"] for c in answer["credentials"] if c.get("certificate_pem")})


def _save_certificate(folder: Path, credential: dict[str, Any]) -> None:
    """`<device_id>.cert.pem` and `.key.pem`, 0600; beside older files of the device rather than over them (either
    key may be the only copy), as `<device_id>.<certificate id's first 16>.*.pem`."""
    from fleet_cli.certificates import write_private

    device_id, certificate_id = credential["device_id"], str(credential.get("certificate_id") or "")
    stem = device_id
    if (folder / f"{stem}.cert.pem").exists() or (folder / f"{stem}.key.pem").exists():
        if not CERTIFICATE_ID.fullmatch(certificate_id):
            raise UsageError(f"refusing to write a certificate whose id is {certificate_id[:80]!r}")
        stem = f"{device_id}.{certificate_id[:16]}"
        note(f"{device_id}: older certificate files are there; this one saved as {stem}.cert.pem and .key.pem")
    write_private(folder / f"{stem}.key.pem", credential["private_key_pem"])
    write_private(folder / f"{stem}.cert.pem", credential["certificate_pem"])


def _issue_certificates(client: FleetClient, device_ids: list[str], folder: Path) -> int:
    """A server-made key pair and certificate per device (the key is answered once): `<id>.cert.pem`, `<id>.key.pem`.

    A device whose files are there already is skipped rather than overwritten (its key may be the only copy)."""
    from fleet_cli.certificates import write_private

    issued = 0
    for device_id in device_ids:
        cert_file, key_file = folder / f"{device_id}.cert.pem", folder / f"{device_id}.key.pem"
        if cert_file.exists() or key_file.exists():
            note(f"{device_id}: {cert_file.name} or {key_file.name} is there already; no certificate issued")
            continue
        made = client.post(resource("customer", "devices", device_id, "certificates"), {})
        write_private(key_file, made["private_key_pem"])
        write_private(cert_file, made["certificate_pem"])
        issued += 1
    return issued
