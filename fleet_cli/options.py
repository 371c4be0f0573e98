"""Options that many `fleet` commands take, declared once."""
from __future__ import annotations

import typer

JSON = typer.Option(False, "--json", help="print the API's JSON")
LIMIT = typer.Option(None, "--limit", min=1, help="stop after this many (default: all pages)")
