"""Helpers of the device-import tests: bodies, the POST, following an import to its end."""
from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.certificates.services import CertificateServices
from chalicelib.container import container
from chalicelib.core.policies import ImportPolicy
from chalicelib.devices.services import DeviceServices
from chalicelib.imports.certs import AuthorityIssuer, CertificateIssuer
from chalicelib.imports.chunks import ChunkRunner
from chalicelib.imports.device_store import BulkDeviceWriter
from chalicelib.imports.schedule import device_imports
from chalicelib.imports.service import DeviceImportService
from chalicelib.imports.store import ImportRepository
from chalicelib.sites.services import SiteServices
from infra.local.scheduler import scheduled_event
from tests.support import Api, ApiResponse

CSV = "text/csv"
JSONL = "application/x-ndjson"


def csv_body(rows: list[dict[str, Any]], columns: tuple[str, ...] = ("device_id", "name", "attributes", "groups",
                                                                      "site")) -> bytes:
    """A CSV with a header; attributes as JSON, groups `;`-separated."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column, "")
            if column == "attributes" and value != "":
                value = json.dumps(value)
            if column == "groups" and value != "":
                value = ";".join(value)
            cells.append(value)
        writer.writerow(cells)
    return out.getvalue().encode()


def jsonl_body(rows: list[dict[str, Any]]) -> bytes:
    """One JSON object per line."""
    return "\n".join(json.dumps(r) for r in rows).encode()


def post_import(api: Api, body: bytes, content_type: str = CSV, client_token: str | None = None) -> ApiResponse:
    """POST /customer/device-imports with a raw body."""
    query = f"?client_token={client_token}" if client_token else ""
    return api.post(f"/customer/device-imports{query}", raw=body, headers={"Content-Type": content_type})


def finish(api: Api, import_id: str, runs: int = 5) -> dict[str, Any]:
    """The import once completed: what the POST had no time for, the per-minute schedule finishes."""
    for _ in range(runs):
        current = api.get(f"/customer/device-imports/{import_id}?limit=1").body
        if current["status"] == "completed":
            return dict(current)
        report = device_imports(scheduled_event(datetime.now(UTC) + timedelta(minutes=5)), None)
        assert "error" not in report, report
    raise AssertionError(f"import {import_id} not completed after {runs} scheduled runs")


def all_results(api: Api, import_id: str, outcome: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Every row result of an import, following next_token."""
    found: list[dict[str, Any]] = []
    token = None
    while True:
        query = f"?limit={limit}" + (f"&outcome={outcome}" if outcome else "") + (
            f"&next_token={token}" if token else "")
        resp = api.get(f"/customer/device-imports/{import_id}{query}")
        assert resp.status == 200, resp.body
        found += resp.body["results"]
        token = resp.body["next_token"]
        if not token:
            return found


def stage_issuer() -> AuthorityIssuer:
    """Row certificates signed by the stage's authority (the test stack's local CA)."""
    return AuthorityIssuer(container().of(CertificateServices).certificate_authority, timedelta(days=30))


def import_service(chunk: int, budget_s: float, writer: BulkDeviceWriter | None = None,
                   credentials_ttl_h: float = 24, issuer: CertificateIssuer | None = None) -> DeviceImportService:
    """The stage's import service with its own chunk size and budget (and, where a test needs it, writer)."""
    c = container()
    policy = ImportPolicy(chunk=chunk, budget_s=budget_s, lease=timedelta(seconds=60),
                          credentials_ttl=timedelta(hours=credentials_ttl_h))
    imports = ImportRepository(c.idempotency_store)
    runner = ChunkRunner(imports, writer or BulkDeviceWriter(), c.of(SiteServices).welcome_sender,
                         c.of(DeviceServices).device_repository, issuer or stage_issuer())
    return DeviceImportService(imports, runner, c.idempotency_store, policy)
