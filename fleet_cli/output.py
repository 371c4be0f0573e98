"""Printing: the API's JSON for scripts, rich tables for people; lists stream as pages arrive."""
from __future__ import annotations

import itertools
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

# Rows are printed in batches so a long listing shows up while later pages are fetched.
BATCH = 50
PIPE_WIDTH = 200


def console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr); wide when piped, so ids are never cut."""
    out = Console(stderr=stderr, highlight=False)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out.width = PIPE_WIDTH
    return out


def fmt(value: Any) -> str:
    """One cell: '-' for nothing, compact JSON for structures."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    # API text is data: a control character (an ESC sequence, say) is shown, never run by the terminal.
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def print_json(data: Any) -> None:
    """The API's JSON, as it answered, on stdout."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")
    sys.stdout.flush()


def stream_json(items: Iterable[Any]) -> int:
    """A JSON array written item by item; returns how many items it held."""
    count = 0
    sys.stdout.write("[")
    for count, item in enumerate(items, start=1):
        sys.stdout.write(("\n  " if count == 1 else ",\n  ") + json.dumps(item))
        sys.stdout.flush()
    sys.stdout.write("\n]\n" if count else "]\n")
    sys.stdout.flush()
    return count


def stream_table(items: Iterable[dict[str, Any]], columns: Sequence[str], title: str | None = None) -> int:
    """Rows in batches under one header; returns how many rows were printed."""
    out = console()
    widths = [len(c) for c in columns]
    count = 0
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, BATCH)):
        rows = [[fmt(item.get(c)) for c in columns] for item in batch]
        if count == 0:
            widths = [max([w, *(len(r[i]) for r in rows)]) for i, w in enumerate(widths)]
        table = Table(show_header=count == 0, title=title if count == 0 else None, box=None, pad_edge=False)
        for name, width in zip(columns, widths, strict=True):
            table.add_column(name.upper(), min_width=width, overflow="fold")
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        out.print(table)
        count += len(batch)
    if count == 0:
        out.print("(none)")
    return count


def print_record(data: dict[str, Any], fields: Sequence[str] | None = None, title: str | None = None) -> None:
    """One object as two columns of field and value."""
    table = Table(show_header=False, title=title, box=None, pad_edge=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key in fields or list(data):
        if key in data:
            table.add_row(key, Text(fmt(data[key])))
    console().print(table)


def note(message: str) -> None:
    """A line for people on stderr, so stdout stays parseable."""
    console(stderr=True).print(message, markup=False)


def print_result(data: dict[str, Any], as_json: bool, fields: Sequence[str] | None = None) -> None:
    """A command's answer: the API's JSON with --json, else one record as two columns."""
    if as_json:
        print_json(data)
    else:
        print_record(data, fields)


def print_items(items: Iterable[dict[str, Any]], columns: Sequence[str], as_json: bool) -> None:
    """A listing: a JSON array with --json, else a table (both streamed as pages arrive)."""
    if as_json:
        stream_json(items)
    else:
        stream_table(items, columns)
