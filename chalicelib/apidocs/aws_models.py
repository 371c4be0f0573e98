"""Documented bodies of the named-shadow routes: AWS IoT's shadow document shapes."""
from __future__ import annotations

from typing import Any

from pydantic import Field

from chalicelib.apidocs.models import Body


class ShadowNames(Body):
    shadows: list[str] = Field(description="the device's named shadows, in name order")


class ShadowState(Body):
    desired: dict[str, Any] | None = None
    reported: dict[str, Any] | None = None
    delta: dict[str, Any] | None = Field(default=None, description="desired keys that differ from reported")


class ShadowDocument(Body):
    state: ShadowState
    metadata: dict[str, Any] = Field(description="per-key {\"timestamp\": epoch seconds}, mirroring state")
    version: int = Field(description="bumped by every write of the shadow")
    timestamp: int = Field(description="epoch seconds")


class ShadowUpdated(Body):
    state: ShadowState = Field(description="what the request changed (null deletes)")
    metadata: dict[str, Any]
    version: int
    timestamp: int


class ShadowDeleted(Body):
    version: int
    timestamp: int
