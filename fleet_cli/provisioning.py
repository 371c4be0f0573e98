"""`fleet provisioning claims`: a template's claim certificates (the credential a factory flashes into every board)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from fleet_cli.app import api
from fleet_cli.certificates import INACTIVE, change_status, refuse_taken, write_private
from fleet_cli.client import FleetClient, resource
from fleet_cli.errors import CliError, UsageError
from fleet_cli.imports import SAFE_NAME
from fleet_cli.options import JSON, LIMIT
from fleet_cli.output import note, print_items, print_json, print_record

app = typer.Typer(no_args_is_help=True, help="Provisioning templates: enrolment of boards by claim.")
claims = typer.Typer(no_args_is_help=True,
                     help="A template's claim certificates: boards holding one enrol themselves on first boot.")
app.add_typer(claims, name="claims")

COLUMNS = ("certificate_id", "status", "not_after", "created_at")
SHOWN = ("certificate_id", "template_name", "subject", "status", "not_before", "not_after")
SECRET = ("private_key_pem", "certificate_pem")


def _path(template: str, *rest: str) -> str:
    return resource("customer", "provisioning-templates", template, "claim-certificates", *rest)


def claim_files(template: str, out: Path) -> tuple[Path, Path]:
    """Where a claim of `template` is written: `claim-TEMPLATE.cert.pem` and `claim-TEMPLATE.key.pem`."""
    # The name becomes a file name: only the API's id alphabet, never a path of its own.
    if not SAFE_NAME.fullmatch(template):
        raise UsageError(f"{template!r} is not a template name (letters, digits, '_' and '-', at most 64)")
    return out / f"claim-{template}.cert.pem", out / f"claim-{template}.key.pem"


def _save(client: FleetClient, template: str, made: dict[str, Any], files: tuple[Path, Path]) -> None:
    """Write both PEM files; if that fails, the key is lost, so the claim it belongs to is revoked."""
    written: list[Path] = []
    try:
        for path, key in zip(files, ("certificate_pem", "private_key_pem"), strict=True):
            write_private(path, made[key])
            written.append(path)
    except OSError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        client.patch(_path(template, made["certificate_id"]), {"status": "REVOKED"})
        raise CliError(f"could not write {exc.filename}: {exc.strerror}; claim {made['certificate_id']} "
                       "was revoked, since its key is lost") from exc


@claims.command()
def create(
    template: str,
    days: int | None = typer.Option(None, "--days", min=1, max=3650,
                                    help="validity (default: the template's claim_validity_days)"),
    out: Path = typer.Option(..., "--out", file_okay=False, help="folder for the PEM files (made if missing)"),
    as_json: bool = JSON,
) -> None:
    """Issue a claim certificate; writes claim-TEMPLATE.cert.pem and claim-TEMPLATE.key.pem, mode 0600.

    The key is answered once and stored nowhere by the API: it is written to its file, never printed.
    """
    files = claim_files(template, out)
    refuse_taken(files, out)
    out.mkdir(parents=True, exist_ok=True)
    client = api()
    made = client.post(_path(template), {"expires_in_days": days} if days is not None else {})
    _save(client, template, made, files)
    shown = {k: v for k, v in made.items() if k not in SECRET}
    if as_json:
        print_json({**shown, "files": [str(p) for p in files]})
        return
    print_record(shown, SHOWN)
    note("written (0600): " + ", ".join(str(p) for p in files) + "; the key cannot be downloaded again")


@claims.command("list")
def list_cmd(template: str, limit: int | None = LIMIT, as_json: bool = JSON) -> None:
    """The template's claim certificates, page after page."""
    items = ({k: v for k, v in c.items() if k != "certificate_pem"}
             for c in api().items(_path(template), "claim_certificates", limit=limit))
    print_items(items, COLUMNS, as_json)


@claims.command()
def revoke(template: str, claim_id: str, inactive: bool = INACTIVE, as_json: bool = JSON) -> None:
    """Revoke a claim (or deactivate it): no board enrols with it any more, open sessions on it are cut."""
    change_status(_path(template, claim_id), inactive, as_json, ("certificate_id", "template_name", "status",
                                                                  "not_after"))
