"""The per-row `certificate` choice of an import: how rows read it, how chunks and transactions count it."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chalicelib.certificates.schemas import Certificate, CertificateStatus
from chalicelib.certificates.x509 import device_name
from chalicelib.core.errors import InvalidInput
from chalicelib.devices.schemas import Device
from chalicelib.imports.certs import HELD_BYTES
from chalicelib.imports.device_store import MAX_ITEMS, NewDevice, _packed
from chalicelib.imports.parse import parse
from chalicelib.imports.schemas import ImportFormat
from chalicelib.imports.service import CHUNK_MAX_BYTES, _credential, _cut

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _csv(*lines: str) -> list[dict[str, object]]:
    return parse("\n".join(lines).encode(), ImportFormat.CSV, 100).rows


@pytest.mark.parametrize(("cell", "wanted"), [("true", True), ("TRUE", True), ("1", True), ("yes", True),
                                              (" Yes ", True), ("false", False), ("0", False), ("no", False),
                                              ("", False)])
def test_the_csv_certificate_column_reads_its_words(cell: str, wanted: bool) -> None:
    [row] = _csv("device_id,certificate", f"d-1,{cell}")
    assert "error" not in row
    # A row without a certificate stores what rows stored before the column existed
    assert row == ({"row": 1, "device_id": "d-1", "certificate": True} if wanted else {"row": 1, "device_id": "d-1"})


def test_a_bad_csv_value_refuses_that_row_only_naming_the_field() -> None:
    rows = _csv("device_id,certificate", "d-1,maybe", "d-2,yes", "d-3,2")
    assert [(r["row"], r.get("field")) for r in rows] == [(1, "certificate"), (2, None), (3, "certificate")]
    assert "true or false" in str(rows[0]["error"]) and str(rows[0]["error"]).startswith("certificate:")


def test_json_lines_take_a_boolean_only() -> None:
    body = "\n".join(json.dumps(r) for r in [
        {"device_id": "a", "certificate": True}, {"device_id": "b", "certificate": "yes"},
        {"device_id": "c", "certificate": 1}, {"device_id": "d", "certificate": None}, {"device_id": "e"}])
    rows = parse(body.encode(), ImportFormat.JSON_LINES, 100).rows
    assert [r.get("field") for r in rows] == [None, "certificate", "certificate", "certificate", None]
    assert rows[0]["certificate"] is True and "certificate" not in rows[4]


def test_rows_without_certificates_are_cut_as_before_and_certificate_rows_count_what_they_hold() -> None:
    plain = [{"row": i, "device_id": f"d-{i:04d}"} for i in range(1, 1001)]
    assert [len(c) for c in _cut(plain, 500)] == [500, 500]
    certs = [{**r, "certificate": True} for r in plain]
    sizes = [len(c) for c in _cut(certs, 500)]
    assert sum(sizes) == 1000 and max(sizes) <= CHUNK_MAX_BYTES // HELD_BYTES


def _new(device_id: str, certificate: bool, groups: tuple[str, ...] = ("g",)) -> NewDevice:
    cert = Certificate(certificate_id=device_id * 2, tenant_id="t", device_id=device_id,
                       status=CertificateStatus.ACTIVE, subject=f"t.{device_id}", serial_number="1", not_before=NOW,
                       not_after=NOW, created_at=NOW, certificate_pem="pem") if certificate else None
    return NewDevice(Device(tenant_id="t", device_id=device_id, created_at=NOW), "token", groups, certificate=cert)


def test_a_certificate_is_one_more_item_of_its_devices_transaction() -> None:
    # 3 items a device (device, token, membership) + the group's count: 33 devices fill a transaction
    assert [len(b) for b in _packed([_new(f"d{i}", False) for i in range(66)])] == [33, 33]
    # with a certificate each, 4 items a device: 24 a transaction
    batches = _packed([_new(f"d{i}", True) for i in range(66)])
    assert [len(b) for b in batches] == [24, 24, 18]
    assert all(4 * len(b) + 1 <= MAX_ITEMS for b in batches)


def test_the_download_shape_has_certificate_fields_only_for_rows_that_asked() -> None:
    plain = _credential("t", ["d-1", "tok"])
    assert (plain.provision_token, plain.certificate_pem, plain.private_key_pem) == ("tok", None, None)
    with_cert = _credential("t", ["d-2", "tok", "id", "CERT", "KEY"])
    assert (with_cert.mqtt_username, with_cert.certificate_id, with_cert.certificate_pem,
            with_cert.private_key_pem) == ("t.d-2", "id", "CERT", "KEY")


def test_a_certificate_subject_holds_at_most_64_characters() -> None:
    assert device_name("t" * 30 + "." + "d" * 33)
    with pytest.raises(InvalidInput) as refused:
        device_name("t" * 30 + "." + "d" * 34)
    assert refused.value.field == "device_id" and "at most 64" in refused.value.message
