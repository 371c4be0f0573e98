"""`fleet devices certs`: create (a server-made key, or sign a CSR), list, revoke or deactivate."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from fleet_cli.app import api
from fleet_cli.client import resource
from fleet_cli.options import JSON
from fleet_cli.output import note, print_items, print_json, print_record

app = typer.Typer(no_args_is_help=True, help="A device's X.509 client certificates (mutual TLS on port 8883).")

COLUMNS = ("certificate_id", "status", "not_after", "created_at")


def _path(device_id: str, *rest: str) -> str:
    return resource("customer", "devices", device_id, "certificates", *rest)


def write_private(path: Path, text: str) -> None:
    """Write a new PEM file readable by its owner only, from its first byte (a key must never be world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def refuse_taken(files: tuple[Path, ...], out: Path) -> None:
    """A usage error naming the files that exist already; called before a request that answers a key.

    A server-made key is answered once, so a file in the way would lose it (and overwriting an
    older key file would lose that one, the only copy, of a certificate still ACTIVE).
    """
    taken = [p for p in files if p.exists()]
    if taken:
        names = ", ".join(p.name for p in taken)
        raise typer.BadParameter(f"{names} already in {out}; move them away or choose another folder",
                                 param_hint="--out")


@app.command()
def create(
    device_id: str,
    csr: Path | None = typer.Option(None, "--csr", exists=True, dir_okay=False,
                                    help="sign this PEM CSR (the key stays with the device)"),
    days: int | None = typer.Option(None, "--days", min=1, max=3650, help="validity (default: the stage's)"),
    out: Path = typer.Option(Path("."), "--out", file_okay=False, help="folder for the PEM files"),
    as_json: bool = JSON,
) -> None:
    """Issue a certificate; writes DEVICE.cert.pem (and DEVICE.key.pem when the server made the key), mode 0600."""
    cert_file, key_file = out / f"{device_id}.cert.pem", out / f"{device_id}.key.pem"
    refuse_taken((cert_file,) if csr is not None else (cert_file, key_file), out)
    body: dict[str, Any] = {}
    if csr is not None:
        body["csr"] = csr.read_text()
    if days is not None:
        body["validity_days"] = days
    made = api().post(_path(device_id), body)
    out.mkdir(parents=True, exist_ok=True)
    write_private(cert_file, made["certificate_pem"])
    written = [cert_file]
    if made.get("private_key_pem"):
        # The only copy of the key: the API never answers it again.
        write_private(key_file, made["private_key_pem"])
        written.append(key_file)
    shown = {k: v for k, v in made.items() if k not in ("private_key_pem", "certificate_pem")}
    if as_json:
        print_json({**shown, "files": [str(p) for p in written]})
        return
    print_record(shown, ("certificate_id", "subject", "status", "not_before", "not_after"))
    note("written (0600): " + ", ".join(str(p) for p in written))


@app.command("list")
def list_cmd(device_id: str, as_json: bool = JSON) -> None:
    """The device's certificates."""
    items = ({k: v for k, v in c.items() if k != "certificate_pem"}
             for c in api().items(_path(device_id), "certificates"))
    print_items(items, COLUMNS, as_json)


INACTIVE = typer.Option(False, "--inactive", help="deactivate instead (reversible); REVOKED is final")


def change_status(path: str, inactive: bool, as_json: bool, fields: tuple[str, ...]) -> None:
    """PATCH a certificate (or claim) to REVOKED, or INACTIVE, and print it without its PEM."""
    changed = api().patch(path, {"status": "INACTIVE" if inactive else "REVOKED"})
    shown = {k: v for k, v in changed.items() if k != "certificate_pem"}
    if as_json:
        print_json(shown)
    else:
        print_record(shown, fields)


@app.command()
def revoke(device_id: str, certificate_id: str, inactive: bool = INACTIVE, as_json: bool = JSON) -> None:
    """Revoke a certificate (or deactivate it): refused at the next connect, its open session cut."""
    change_status(_path(device_id, certificate_id), inactive, as_json, ("certificate_id", "status", "not_after"))
