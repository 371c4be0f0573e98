"""Reading an import body (CSV or JSON lines) into rows, each valid or refused with the reason.

A problem with the whole body (empty, unreadable, too many rows, an unknown CSV column) is a
400 naming it; a problem with one row refuses that row only, with its number and field.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from chalicelib.core.errors import InvalidInput
from chalicelib.core.http.views import validation_error
from chalicelib.core.ids import new_id
from chalicelib.core.strict_json import UnsafeJson, loads_strict
from chalicelib.imports.schemas import ImportFormat, ImportRow

CSV_COLUMNS = ("device_id", "name", "attributes", "groups", "site", "certificate")
# CSV columns named `attr.<key>` are one attribute each (beside or instead of a JSON `attributes` column).
ATTRIBUTE_COLUMN = "attr."
GROUP_SEPARATOR = ";"
# The CSV `certificate` column's words (any case); any other word refuses the row naming the column.
CSV_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
MAX_ROW_BYTES = 8 * 1024

# A parsed row as chunks store it: the row's fields, or {"row", "error", "field"} when it is refused.
StoredRow = dict[str, Any]


@dataclass(frozen=True)
class Parsed:
    """Every data row of a body, numbered from 1, in order."""

    rows: list[StoredRow]

    @property
    def refused(self) -> int:
        """Rows refused while reading."""
        return sum(1 for r in self.rows if "error" in r)


def format_of(content_type: str | None) -> ImportFormat:
    """The body's format from its Content-Type (400 naming Content-Type otherwise)."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in ("text/csv", "application/csv"):
        return ImportFormat.CSV
    if kind in ("application/x-ndjson", "application/jsonl", "application/json-lines", "application/x-jsonlines"):
        return ImportFormat.JSON_LINES
    raise InvalidInput("Content-Type must be text/csv or application/x-ndjson (JSON lines)", field="Content-Type")


def parse(body: bytes, fmt: ImportFormat, max_rows: int) -> Parsed:
    """Every row of the body, valid or refused; 400 for a body that cannot be read at all."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("body is not UTF-8", field="body") from exc
    raw = _csv_rows(text) if fmt is ImportFormat.CSV else _json_rows(text)
    rows: list[StoredRow] = []
    seen: dict[str, int] = {}
    for number, fields in enumerate(raw, start=1):
        if number > max_rows:
            raise InvalidInput(f"an import holds at most {max_rows} rows", field="body", limit=max_rows)
        rows.append(_row(number, fields, seen))
    if not rows:
        raise InvalidInput("the body has no rows", field="body")
    return Parsed(rows)


def _row(number: int, fields: dict[str, Any] | str, seen: dict[str, int]) -> StoredRow:
    if isinstance(fields, str):
        return _refused(number, fields, "row")
    if len(json.dumps(fields, default=str)) > MAX_ROW_BYTES:
        return _refused(number, f"a row holds at most {MAX_ROW_BYTES} bytes", "row")
    try:
        row = ImportRow.model_validate(fields)
    except ValidationError as exc:
        error = validation_error(exc)
        return _refused(number, error.message, error.field or "row")
    device_id = row.device_id or new_id("dev")
    if device_id in seen:
        return _refused(number, f"device_id {device_id} is also on row {seen[device_id]}", "device_id")
    seen[device_id] = number
    stored: StoredRow = {"row": number, "device_id": device_id}
    stored.update(row.model_dump(exclude={"device_id"}, exclude_defaults=True))
    if row.groups:
        stored["groups"] = sorted(set(row.groups))
    return stored


def _refused(number: int, reason: str, field: str) -> StoredRow:
    return {"row": number, "error": reason, "field": field}


def _json_rows(text: str) -> list[dict[str, Any] | str]:
    rows: list[dict[str, Any] | str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            value = loads_strict(line)
        except UnsafeJson as exc:
            rows.append(str(exc))
            continue
        except (ValueError, RecursionError) as exc:
            rows.append(f"not valid JSON: {exc}")
            continue
        rows.append(value if isinstance(value, dict) else "each line must be a JSON object")
    return rows


def _csv_rows(text: str) -> list[dict[str, Any] | str]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration as exc:
        raise InvalidInput("the CSV has no header row", field="body") from exc
    except csv.Error as exc:
        raise InvalidInput(f"the CSV header cannot be read: {exc}", field="body") from exc
    columns = [c.strip() for c in header]
    for column in columns:
        if column not in CSV_COLUMNS and not _is_attribute_column(column):
            raise InvalidInput(f"unknown CSV column {column[:64]!r}: use {', '.join(CSV_COLUMNS)} or attr.<key>",
                               field="body")
    if len(set(columns)) != len(columns):
        raise InvalidInput("a CSV column is named twice", field="body")
    rows: list[dict[str, Any] | str] = []
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return rows
        except csv.Error as exc:
            rows.append(f"the CSV row cannot be read: {exc}")
            continue
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(columns):
            rows.append(f"the row has {len(cells)} cells, the header {len(columns)}")
            continue
        rows.append(_csv_fields(dict(zip(columns, cells, strict=True))))


def _csv_fields(cells: dict[str, str]) -> dict[str, Any] | str:
    """A CSV row as the fields of ImportRow: empty cells are absent, attributes JSON, groups `;`-separated."""
    fields: dict[str, Any] = {k: v for k, v in cells.items() if k in ("device_id", "name", "site") and v != ""}
    attributes: dict[str, Any] = {}
    if cells.get("attributes", "").strip():
        try:
            parsed = loads_strict(cells["attributes"])
        except (UnsafeJson, ValueError, RecursionError):
            return "attributes: must be a JSON object"
        if not isinstance(parsed, dict):
            return "attributes: must be a JSON object"
        attributes.update(parsed)
    attributes.update({k[len(ATTRIBUTE_COLUMN):]: v for k, v in cells.items() if _is_attribute_column(k) and v != ""})
    if attributes:
        fields["attributes"] = attributes
    if cells.get("groups", "").strip():
        fields["groups"] = [g.strip() for g in cells["groups"].split(GROUP_SEPARATOR) if g.strip()]
    certificate = cells.get("certificate", "").strip()
    if certificate:
        # An unknown word stays a string: the row's validation refuses it, naming `certificate`.
        fields["certificate"] = CSV_BOOLEANS.get(certificate.lower(), certificate)
    return fields


def _is_attribute_column(column: str) -> bool:
    return column.startswith(ATTRIBUTE_COLUMN) and len(column) > len(ATTRIBUTE_COLUMN)
