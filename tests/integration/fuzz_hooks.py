"""Schemathesis hooks of the fuzz test: how a JSON lines body (the device import's) goes on the wire."""
from __future__ import annotations

import json
from typing import Any

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def json_lines(ctx: schemathesis.SerializationContext, value: Any) -> bytes:
    """One JSON document a line; a generated single row is a file of one line."""
    rows = value if isinstance(value, list) else [value]
    return "".join(json.dumps(row) + "\n" for row in rows).encode()
