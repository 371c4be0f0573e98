"""Rows that ask for a certificate (`certificate: true`) get one, handed out once with the tokens, never twice."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from bench.ddb_counter import DdbRequestCounter
from chalicelib.core.clock import utcnow
from chalicelib.core.errors import Unavailable
from chalicelib.imports.certs import Held
from chalicelib.imports.device_store import BulkDeviceWriter, NewDevice, Written
from chalicelib.imports.schemas import ImportFormat
from tests.cert_support import logged_in, tls_peer
from tests.conftest import Stack
from tests.integration.imports_support import (
    JSONL,
    all_results,
    csv_body,
    finish,
    import_service,
    jsonl_body,
    post_import,
    stage_issuer,
)
from tests.support import Api

COLUMNS = ("device_id", "certificate")


class CountingIssuer:
    """The stage's issuer, counting the certificates it signs per device."""

    def __init__(self) -> None:
        self._real = stage_issuer()
        self.issued: dict[str, int] = {}

    def issue(self, tenant_id: str, device_id: str) -> Held:
        self.issued[device_id] = self.issued.get(device_id, 0) + 1
        return self._real.issue(tenant_id, device_id)


class Dies(BulkDeviceWriter):
    """The real writer, but the `crash_on`-th chunk dies before (or right after) its devices are written."""

    def __init__(self, crash_on: int, before: bool) -> None:
        super().__init__()
        self._crash_on, self._before = crash_on, before
        self.calls = 0

    def create(self, tenant_id: str, devices: list[NewDevice], now: datetime) -> Written:
        self.calls += 1
        if self._before and self.calls == self._crash_on:
            raise RuntimeError("the function died before writing")
        written = super().create(tenant_id, devices, now)
        if not self._before and self.calls == self._crash_on:
            raise RuntimeError("the function died after writing")
        return written


def _listed(api: Api, device_id: str) -> list[str]:
    resp = api.get(f"/customer/devices/{device_id}/certificates")
    assert resp.status == 200, resp.body
    return [c["certificate_id"] for c in resp.body["certificates"]]


def test_a_csv_with_a_certificate_column_issues_certificates_to_the_rows_that_ask(api: Api) -> None:
    # Given a CSV whose rows say yes, 1, TRUE, no, 0, nothing, and one a word that is not a boolean
    rows = [{"device_id": "m-yes", "certificate": "yes"}, {"device_id": "m-one", "certificate": "1"},
            {"device_id": "m-true", "certificate": "TRUE"}, {"device_id": "m-no", "certificate": "no"},
            {"device_id": "m-zero", "certificate": "0"}, {"device_id": "m-none"},
            {"device_id": "m-bad", "certificate": "maybe"}]
    # When it is imported
    resp = post_import(api, csv_body(rows, COLUMNS))
    assert resp.status == 202, resp.body
    view = finish(api, resp.body["import_id"])
    # Then the bad row alone is refused, with its row number and the field named
    assert (view["created"], view["refused"]) == (6, 1)
    refused = all_results(api, view["import_id"], "refused")
    assert [(r["row"], r["field"]) for r in refused] == [(7, "certificate")]
    assert "true or false" in refused[0]["reason"]
    assert api.get("/customer/devices/m-bad").status == 404
    # And neither the import nor its rows show any credential
    shown = json.dumps([api.get(f"/customer/device-imports/{view['import_id']}").body,
                        api.get("/customer/device-imports").body, all_results(api, view["import_id"])])
    assert "PRIVATE KEY" not in shown and "CERTIFICATE" not in shown
    # When the credentials are downloaded
    got = api.post(f"/customer/device-imports/{view['import_id']}/credentials")
    assert got.status == 200, got.body
    creds = {c["device_id"]: c for c in got.body["credentials"]}
    # Then every created device has its token, and exactly the rows that asked have a certificate and its key
    assert sorted(creds) == ["m-no", "m-none", "m-one", "m-true", "m-yes", "m-zero"]
    assert sorted(d for d, c in creds.items() if c.get("certificate_pem")) == ["m-one", "m-true", "m-yes"]
    for device_id in ("m-one", "m-true", "m-yes"):
        c = creds[device_id]
        cert = x509.load_pem_x509_certificate(c["certificate_pem"].encode())
        key = serialization.load_pem_private_key(c["private_key_pem"].encode(), password=None)
        assert cert.public_key() == key.public_key()
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"{api.tenant_id}.{device_id}"
        # And the registry holds that one certificate, ACTIVE, never its key
        assert _listed(api, device_id) == [c["certificate_id"]]
        one = api.get(f"/customer/devices/{device_id}/certificates/{c['certificate_id']}").body
        assert one["status"] == "ACTIVE" and "private_key_pem" not in one
    for device_id in ("m-no", "m-zero", "m-none"):
        assert creds[device_id].get("certificate_pem") is None and _listed(api, device_id) == []
    # And the download is given once
    again = api.post(f"/customer/device-imports/{view['import_id']}/credentials")
    assert (again.status, again.body["credentials"]) == (409, "downloaded")


def test_json_lines_take_only_a_boolean_and_a_bad_value_refuses_that_row_only(api: Api) -> None:
    rows: list[dict[str, Any]] = [{"device_id": "j-1", "certificate": True}, {"device_id": "j-2", "certificate": "yes"},
            {"device_id": "j-3", "certificate": 1}, {"device_id": "j-4", "certificate": False}, {"device_id": "j-5"}]
    resp = post_import(api, jsonl_body(rows), JSONL)
    assert resp.status == 202, resp.body
    view = finish(api, resp.body["import_id"])
    assert (view["created"], view["refused"]) == (3, 2)
    assert [(r["row"], r["field"]) for r in all_results(api, view["import_id"], "refused")] == [
        (2, "certificate"), (3, "certificate")]
    creds = api.post(f"/customer/device-imports/{view['import_id']}/credentials").body["credentials"]
    assert [c["device_id"] for c in creds if c.get("certificate_pem")] == ["j-1"]


def test_a_chunk_redone_after_a_crash_issues_no_second_certificate(api: Api) -> None:
    # Given runs that die before, then after, writing a chunk of rows that ask for certificates
    for before, prefix in ((True, "cb"), (False, "ca")):
        issuer = CountingIssuer()
        service = import_service(chunk=2, budget_s=60, writer=Dies(crash_on=2, before=before), issuer=issuer)
        ids = [f"{prefix}-{i}" for i in range(5)]
        body = jsonl_body([{"device_id": d, "certificate": i % 2 == 0} for i, d in enumerate(ids)])
        started = service.start(api.tenant_id, ImportFormat.JSON_LINES, body, None, "op")
        assert started.record.status.value == "running"
        # When the schedule takes the import over once the lease ended
        report = service.run_due(utcnow() + timedelta(minutes=2), budget_s=60)
        assert (report.resumed, report.completed) == (1, 1)
        # Then each row that asked was signed one certificate, the registry holds that one, and it is downloaded
        assert issuer.issued == {ids[0]: 1, ids[2]: 1, ids[4]: 1}
        creds = {c.device_id: c for c in service.download(api.tenant_id, started.record.import_id)}
        assert sorted(creds) == ids
        for device_id in (ids[0], ids[2], ids[4]):
            assert _listed(api, device_id) == [creds[device_id].certificate_id]
        assert [d for d, c in creds.items() if c.certificate_pem] == [ids[0], ids[2], ids[4]]


def test_a_downloaded_certificate_logs_in_on_the_certificate_listener(api: Api, stack: Stack, tmp_path: Path) -> None:
    resp = post_import(api, jsonl_body([{"device_id": "tls-1", "certificate": True}]), JSONL)
    view = finish(api, resp.body["import_id"])
    cred = api.post(f"/customer/device-imports/{view['import_id']}/credentials").body["credentials"][0]
    stack.sync.sync_once()
    tls = stack.broker.tls
    assert tls is not None
    device = tls_peer(stack.broker.host, tls.mtls_port, tls.ca_file, tmp_path, cred["certificate_pem"],
                      cred["private_key_pem"])
    try:
        assert logged_in(device)
    finally:
        device.close()


def test_another_tenant_cannot_download_or_read_the_certificates(api: Api, other_api: Api) -> None:
    resp = post_import(api, jsonl_body([{"device_id": "own-1", "certificate": True}]), JSONL)
    view = finish(api, resp.body["import_id"])
    path = f"/customer/device-imports/{view['import_id']}"
    assert other_api.post(f"{path}/credentials").status == 404
    assert other_api.get(path).status == 404
    assert other_api.get("/customer/devices/own-1/certificates").status == 404
    # And the owner's one download is still there, with the certificate
    creds = api.post(f"{path}/credentials").body["credentials"]
    assert creds[0]["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")


def test_certificate_rows_add_only_their_own_writes_to_the_request_budget(api: Api) -> None:
    # Given 400 rows in a group, once without certificates, once with 100 of them asking for one
    assert api.post("/customer/groups", {"group_id": "g", "name": "G"}).status == 201
    counter = DdbRequestCounter()
    totals = []
    for prefix, every in (("plain", 0), ("certs", 4)):
        body = csv_body([{"device_id": f"{prefix}-{i:04d}", "groups": ["g"],
                          "certificate": "yes" if every and i % every == 0 else ""} for i in range(400)],
                        ("device_id", "groups", "certificate"))
        with counter.measure() as counts:
            started = import_service(chunk=500, budget_s=60).start(api.tenant_id, ImportFormat.CSV, body, None,
                                                                   "op")
        assert started.record.created == 400
        totals.append(sum(counts.values()))
    plain, certs = totals
    print(f"400 rows: {plain} DynamoDB requests without certificates, {certs} with 100 certificates")
    # Then both stay within 0.3 requests per row: the certificate items ride in the devices' transactions (the
    # rest of the difference is the second chunk the certificates' size makes)
    assert plain <= 0.3 * 400 and certs <= 0.3 * 400


def test_a_row_whose_name_cannot_be_a_certificate_subject_is_refused_and_the_rest_go_on(api: Api) -> None:
    # Given a row asking for a certificate whose `{tenant}.{device}` exceeds a common name's 64 characters
    long_id = "x" * (64 - len(api.tenant_id))
    rows: list[dict[str, Any]] = [{"device_id": long_id, "certificate": True},
                                  {"device_id": "short-1", "certificate": True}, {"device_id": long_id[:-1] + "y"}]
    resp = post_import(api, jsonl_body(rows), JSONL)
    view = finish(api, resp.body["import_id"])
    # Then that row alone is refused naming `certificate`; the same length without a certificate is created
    assert (view["created"], view["refused"]) == (2, 1)
    assert [(r["row"], r["field"]) for r in all_results(api, view["import_id"], "refused")] == [(1, "certificate")]


class FailsOnce(CountingIssuer):
    """The stage's issuer, but its `fail_on`-th call fails as an unreachable AWS IoT would, once."""

    def __init__(self, fail_on: int) -> None:
        super().__init__()
        self._fail_on, self._calls = fail_on, 0

    def issue(self, tenant_id: str, device_id: str) -> Held:
        self._calls += 1
        if self._calls == self._fail_on:
            raise Unavailable("AWS IoT could not be reached; retry")
        return super().issue(tenant_id, device_id)


def test_certificates_signed_before_the_authority_failed_are_kept_for_the_redo(api: Api) -> None:
    # Given an authority that fails on the third certificate of a chunk
    issuer = FailsOnce(fail_on=3)
    service = import_service(chunk=10, budget_s=60, issuer=issuer)
    ids = [f"fo-{i}" for i in range(4)]
    started = service.start(api.tenant_id, ImportFormat.JSON_LINES,
                            jsonl_body([{"device_id": d, "certificate": True} for d in ids]), None, "op")
    assert (started.record.status.value, started.record.created) == ("running", 0)
    # When the schedule redoes the chunk
    assert service.run_due(utcnow() + timedelta(minutes=2), budget_s=60).completed == 1
    # Then the two certificates signed before the failure were written, not signed again
    assert issuer.issued == {d: 1 for d in ids}
    creds = {c.device_id: c for c in service.download(api.tenant_id, started.record.import_id)}
    for device_id in ids:
        assert _listed(api, device_id) == [creds[device_id].certificate_id]
