"""One route's entry in the API contract: what it takes and answers."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

Auth = Literal["operator", "device", "broker", "none"]


@dataclass(frozen=True)
class Operation:
    """What one route takes and answers, for the document."""

    summary: str
    tag: str
    ok: type[BaseModel]
    status: int = 200
    auth: Auth = "operator"
    body: type[BaseModel] | None = None
    query: tuple[type[BaseModel], ...] = ()
    errors: tuple[int, ...] = ()
    also: dict[int, str] = field(default_factory=dict)  # further success statuses with the same body
    many: bool = False  # the body is a bare array of `ok`
    example: dict[str, Any] | None = None
    description: str = ""
    media_type: str = "application/json"
    path_enums: dict[str, tuple[str, ...]] = field(default_factory=dict)  # path parameters that are not ids
    # A body that is not one JSON object (a CSV, JSON lines): media type -> example; `body` is one row.
    body_media: dict[str, str] = field(default_factory=dict)
