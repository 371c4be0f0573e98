"""References in what devices receive (job documents, command parameters), resolved when delivered.

A feature that lets operators point at something (a firmware image, say) provides a
`DocumentResolver`; jobs and commands call it where a document leaves for a device and
where one is created, and never store what it makes (URLs expire, devices differ).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

Document = dict[str, Any]


class DocumentResolver(Protocol):
    """Checks references when a document is created and fills them in when it is delivered."""

    def hold(self, tenant_id: str, document: Document, until: datetime, field: str = "document") -> None:
        """Refuse (4xx naming the field, `field` for the document itself) a reference the tenant may not use;
        keep its target until `until`."""
        ...

    def resolve(self, tenant_id: str, document: Document, device_ids: Sequence[str]) -> list[Document]:
        """The document as each device receives it, in the order of `device_ids`."""
        ...


class NoReferences:
    """The resolver of a stage without any referenced content: documents go out as stored."""

    def hold(self, tenant_id: str, document: Document, until: datetime, field: str = "document") -> None:
        """Nothing to check."""

    def resolve(self, tenant_id: str, document: Document, device_ids: Sequence[str]) -> list[Document]:
        """The same document for every device."""
        return [document] * len(device_ids)


@dataclass(frozen=True)
class References:
    """The resolver jobs and commands deliver with (the composition root wires the firmware feature's)."""

    resolver: DocumentResolver = field(default_factory=NoReferences)
