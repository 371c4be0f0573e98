"""AWS IoT shadow documents: the request checks and the payloads, exactly as AWS IoT shapes them.

Pure: no storage, no publishing. Metadata is stored as `{"timestamp": iso}` leaves (the
twin's format) and shown to AWS devices with epoch-second timestamps.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.twin.rules import TIMESTAMP, compute_delta

Document = dict[str, Any]
CLIENT_TOKEN_MAX_BYTES = 64


class ShadowRejected(Exception):
    """A request AWS IoT would answer on `/rejected`: an HTTP-like code and AWS's message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ShadowDoc:
    """One shadow: both documents, their metadata and the version every write bumps."""

    desired: Document = field(default_factory=dict)
    reported: Document = field(default_factory=dict)
    desired_metadata: Document = field(default_factory=dict)
    reported_metadata: Document = field(default_factory=dict)
    version: int = 0
    updated_at: datetime | None = None

    @property
    def exists(self) -> bool:
        """A shadow with neither document is one that was never written, or deleted."""
        return bool(self.desired or self.reported)


@dataclass(frozen=True)
class UpdateRequest:
    """A parsed `update`: None for a section means "not in the request", DELETE_ALL means `null`."""

    desired: Document | None
    reported: Document | None
    clear_desired: bool
    clear_reported: bool
    version: int | None
    client_token: str | None


def client_token(body: Document) -> str | None:
    """The request's clientToken, when it is one AWS would accept (else None: never echo junk)."""
    token = body.get("clientToken")
    if isinstance(token, str) and 0 < len(token.encode()) <= CLIENT_TOKEN_MAX_BYTES:
        return token
    return None


def check_common(body: Document) -> tuple[int | None, str | None]:
    """The `version` and `clientToken` every shadow request may carry (400 when malformed)."""
    if "clientToken" in body and client_token(body) is None:
        raise ShadowRejected(400, "Invalid clientToken")
    version = body.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 0):
        raise ShadowRejected(400, "Invalid version")
    return version, client_token(body)


def parse_update(body: Document) -> UpdateRequest:
    """Check an update request the way AWS IoT does; 400 with AWS's messages."""
    version, token = check_common(body)
    if "state" not in body:
        raise ShadowRejected(400, "Missing required node: state")
    state = body["state"]
    if state is None:  # `"state": null` clears both documents
        return UpdateRequest(None, None, True, True, version, token)
    if not isinstance(state, dict):
        raise ShadowRejected(400, "State node must be an object")
    if set(state) - {"desired", "reported"}:
        raise ShadowRejected(400, "State contains an invalid node")
    sections: dict[str, Document | None] = {}
    for name in ("desired", "reported"):
        value = state.get(name)
        if value is not None and not isinstance(value, dict):
            raise ShadowRejected(400, f"{name.capitalize()} node must be an object")
        sections[name] = value
    return UpdateRequest(sections["desired"], sections["reported"],
                         "desired" in state and state["desired"] is None,
                         "reported" in state and state["reported"] is None, version, token)


def epoch(value: str | datetime | None) -> int:
    """Epoch seconds of an ISO timestamp or a datetime (0 when unknown)."""
    if value is None:
        return 0
    ts = value if isinstance(value, datetime) else datetime.fromisoformat(value.replace("Z", "+00:00"))
    return int(ts.timestamp())


def epoch_metadata(metadata: Document) -> Document:
    """Stored metadata with each `{"timestamp": iso}` leaf turned into epoch seconds."""
    result: Document = {}
    for key, value in metadata.items():
        if isinstance(value, dict) and set(value) == {TIMESTAMP} and isinstance(value[TIMESTAMP], str):
            result[key] = {TIMESTAMP: epoch(value[TIMESTAMP])}
        elif isinstance(value, dict):
            result[key] = epoch_metadata(value)
    return result


def touched_metadata(patch: Document, stamp: int) -> Document:
    """Metadata of what an update touched: a timestamp per leaf, deletes included."""
    return {k: touched_metadata(v, stamp) if isinstance(v, dict) and v else {TIMESTAMP: stamp}
            for k, v in patch.items()}


def pick_metadata(delta: Document, metadata: Document) -> Document:
    """The metadata of the keys present in `delta` (same shape as the delta)."""
    result: Document = {}
    for key, value in delta.items():
        meta = metadata.get(key)
        if isinstance(value, dict) and isinstance(meta, dict) and TIMESTAMP not in meta:
            result[key] = pick_metadata(value, meta)
        elif isinstance(meta, dict):
            result[key] = meta
    return result


def full_state(doc: ShadowDoc) -> Document:
    """`state` of a get answer: desired and reported when present, delta when non-empty."""
    state: Document = {}
    if doc.desired:
        state["desired"] = doc.desired
    if doc.reported:
        state["reported"] = doc.reported
    delta = compute_delta(doc.desired, doc.reported)
    if delta:
        state["delta"] = delta
    return state


def full_metadata(doc: ShadowDoc) -> Document:
    """`metadata` of a get answer, epoch seconds."""
    meta: Document = {}
    if doc.desired_metadata:
        meta["desired"] = epoch_metadata(doc.desired_metadata)
    if doc.reported_metadata:
        meta["reported"] = epoch_metadata(doc.reported_metadata)
    return meta


def with_token(payload: Document, token: str | None) -> Document:
    """The payload with `clientToken` echoed when the request had one."""
    return {**payload, "clientToken": token} if token is not None else payload


def get_accepted(doc: ShadowDoc, now: int, token: str | None) -> Document:
    """The answer on `get/accepted`."""
    return with_token({"state": full_state(doc), "metadata": full_metadata(doc), "version": doc.version,
                       "timestamp": now}, token)


def update_accepted(desired: Document | None, reported: Document | None, clear_desired: bool,
                    clear_reported: bool, version: int, now: int, token: str | None) -> Document:
    """The answer on `update/accepted`: the request's state, the metadata it touched, the new version."""
    state: Document = {}
    metadata: Document = {}
    for name, patch, cleared in (("desired", desired, clear_desired), ("reported", reported, clear_reported)):
        if cleared:
            state[name] = None
            metadata[name] = {TIMESTAMP: now}
        elif patch is not None:
            state[name] = patch
            metadata[name] = touched_metadata(patch, now)
    return with_token({"state": state, "metadata": metadata, "version": version, "timestamp": now}, token)


def delta_event(doc: ShadowDoc, now: int, token: str | None) -> Document | None:
    """The `update/delta` event of a shadow, or None when desired and reported agree."""
    delta = compute_delta(doc.desired, doc.reported)
    if not delta:
        return None
    metadata = pick_metadata(delta, epoch_metadata(doc.desired_metadata))
    return with_token({"version": doc.version, "timestamp": now, "state": delta, "metadata": metadata}, token)


def documents_event(previous: ShadowDoc | None, current: ShadowDoc, now: int, token: str | None) -> Document:
    """The `update/documents` event: the shadow before and after an update."""
    def snapshot(doc: ShadowDoc) -> Document:
        state = {k: v for k, v in (("desired", doc.desired), ("reported", doc.reported)) if v}
        return {"state": state, "metadata": full_metadata(doc), "version": doc.version}

    payload: Document = {"current": snapshot(current), "timestamp": now}
    if previous is not None and previous.exists:
        payload = {"previous": snapshot(previous), **payload}
    return with_token(payload, token)


def error(code: int, message: str, now: int, token: str | None) -> Document:
    """The answer on `/rejected`."""
    return with_token({"code": code, "message": message, "timestamp": now}, token)
