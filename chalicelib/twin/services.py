"""The twin feature's long-lived objects, built on first use from the core (see core/feature.py)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.core.feature import Core
    from chalicelib.twin.service import TwinService, WriteListener
    from chalicelib.twin.store import TwinRepository


@dataclass(frozen=True)
class TwinHooks:
    """Who hears of every twin write (AWS IoT's shadow events, where served); wired by the composition root."""

    on_written: WriteListener | None = None


class TwinServices:
    """The device twin."""

    def __init__(self, core: Core) -> None:
        self._core = core

    @cached_property
    def twin_repository(self) -> TwinRepository:
        from chalicelib.twin.store import TwinRepository
        return TwinRepository()

    @cached_property
    def twin_service(self) -> TwinService:
        from chalicelib.twin.service import TwinService
        core = self._core
        return TwinService(self.twin_repository, core.publisher, core.settings.twin,
                           on_written=core.of(TwinHooks).on_written)
