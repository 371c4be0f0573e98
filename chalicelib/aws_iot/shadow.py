"""AWS IoT shadows over `$aws/things/{thing}/shadow/...`: the classic shadow is the device twin.

The classic shadow is the twin on the device item (one document, one version history,
whoever writes it); named shadows are items of their own with the same rules and limits.
Answers and events go out through the same publisher the rest of the cloud side uses.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.aws_iot import shadow_schemas as aws
from chalicelib.aws_iot.ports import NamedShadows, TwinDocuments
from chalicelib.aws_iot.shadow_schemas import ShadowDoc, ShadowRejected, UpdateRequest
from chalicelib.aws_iot.topics import SHADOW_ROUTE, is_shadow_name, shadow_prefix
from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import NotFound, Unavailable
from chalicelib.core.messaging.base import Message, Publisher
from chalicelib.core.observability.log import logger
from chalicelib.core.topics import device_topic
from chalicelib.twin import rules as twin_logic
from chalicelib.twin.schemas import Twin
from chalicelib.twin.service import DESIRED_SUFFIX, TwinLimits, WriteListener

Document = dict[str, Any]
# AWS's shape (400, as for any other malformed request), naming the field and its rule.
INVALID_NAME = "Invalid shadow name: shadowName must be 1 to 64 letters, digits, ':', '_' or '-'"


class ShadowService:
    """get / update / delete of a device's shadows, from its MQTT requests or an operator."""

    def __init__(self, twins: TwinDocuments, named: NamedShadows, publisher: Publisher,
                 limits: TwinLimits | None = None, clock: Clock = utcnow,
                 sleep: Callable[[float], None] = time.sleep, on_written: WriteListener | None = None) -> None:
        self._twins = twins
        self._named = named
        self._publisher = publisher
        self._limits = limits or TwinLimits()
        self._clock = clock
        self._sleep = sleep
        # Who else hears of a classic-shadow write (the fleet's firmware versions): the twin's own paths
        # call their listeners; a write made here must reach them too.
        self._on_written = on_written

    # MQTT (device-message router)

    def on_message(self, tenant_id: str, device_id: str, route: str, body: Document) -> Document:
        """Router handler for `$aws/shadow/...`: answer on `/accepted` or `/rejected`."""
        name, operation = _split(route)
        token = aws.client_token(body)
        try:
            if name is not None and not is_shadow_name(name):
                raise ShadowRejected(400, INVALID_NAME)
            if operation == "get":
                aws.check_common(body)
                payload = aws.get_accepted(self.get(tenant_id, device_id, name), self._epoch(), token)
                self._publish(tenant_id, device_id, name, "get/accepted", payload)
            elif operation == "update":
                payload = self.update(tenant_id, device_id, name, aws.parse_update(body))
            else:
                version, token = aws.check_common(body)
                payload = self.delete(tenant_id, device_id, name, version, token)
        except ShadowRejected as exc:
            self._reject(tenant_id, device_id, name, operation, exc.code, exc.message, token)
            return {"rejected": exc.code, "message": exc.message}
        return payload

    def reject(self, tenant_id: str, device_id: str, route: str, status: int, message: str) -> None:
        """Router rejecter: a request refused before it was parsed (not JSON, too large)."""
        name, operation = _split(route)
        text = "Invalid JSON" if status == 400 else "The payload exceeds the maximum size allowed"
        self._reject(tenant_id, device_id, name, operation, status, text, None)

    # Operations

    def get(self, tenant_id: str, device_id: str, name: str | None) -> ShadowDoc:
        """The shadow; 404 `No shadow exists with name` when it has no document."""
        doc = self._load(tenant_id, device_id, name)[0]
        if not doc.exists:
            raise ShadowRejected(404, f"No shadow exists with name: '{_label(tenant_id, device_id, name)}'")
        return doc

    def update(self, tenant_id: str, device_id: str, name: str | None, request: UpdateRequest) -> Document:
        """Merge the request into the shadow, publish accepted, documents and (maybe) delta."""
        for section in (request.desired, request.reported):
            if section is not None and twin_logic.depth(section) > self._limits.max_depth:
                raise ShadowRejected(400, f"JSON contains too many levels of nesting; maximum is "
                                          f"{self._limits.max_depth}")
        for _ in self._limits.write_retry.retries(self._sleep):
            previous, twin = self._load(tenant_id, device_id, name)
            if request.version is not None and request.version != previous.version:
                raise ShadowRejected(409, "Version conflict")
            now = self._clock()
            current = self._apply(previous, request, now)
            desired_changed = request.desired is not None or request.clear_desired
            written = self._store(tenant_id, device_id, name, previous, twin, current, desired_changed, now)
            if written is not None:
                stamp = aws.epoch(now)
                accepted = aws.update_accepted(request.desired, request.reported, request.clear_desired,
                                               request.clear_reported, current.version, stamp, request.client_token)
                self._publisher.publish_many([*self._events(tenant_id, device_id, name, previous, current, accepted,
                                                            request.desired is not None, request.client_token),
                                              *written])
                return accepted
        raise _busy()

    def delete(self, tenant_id: str, device_id: str, name: str | None, version: int | None,
               token: str | None) -> Document:
        """Delete the shadow (the classic one empties the twin); 404 when there is none."""
        for _ in self._limits.write_retry.retries(self._sleep):
            previous, twin = self._load(tenant_id, device_id, name)
            if not previous.exists:
                raise ShadowRejected(404, f"No shadow exists with name: '{_label(tenant_id, device_id, name)}'")
            if version is not None and version != previous.version:
                raise ShadowRejected(409, "Version conflict")
            now = self._clock()
            if name is None:
                assert twin is not None
                emptied = ShadowDoc(version=previous.version + 1, updated_at=now)
                written = self._store(tenant_id, device_id, None, previous, twin, emptied, True, now)
                if written is not None:
                    self._publisher.publish_many(written)
                    return self._deleted(tenant_id, device_id, None, emptied.version, now, token)
            elif self._named.delete(tenant_id, device_id, name, previous):
                return self._deleted(tenant_id, device_id, name, previous.version + 1, now, token)
        raise _busy()

    def names(self, tenant_id: str, device_id: str) -> list[str]:
        """The device's named shadows."""
        self._twins.get(tenant_id, device_id)  # 404 for a missing or foreign device
        return self._named.names(tenant_id, device_id)

    # Writes of the classic shadow made through the twin's own paths (operator PATCH, project report)

    def twin_written(self, before: Twin, after: Twin, desired: Document | None,
                     reported: Document | None) -> list[Message]:
        """AWS's events for a twin write (AWS devices see operator PATCHes as deltas); the twin publishes them."""
        now = aws.epoch(after.shadow_updated_at or self._clock())
        accepted = aws.update_accepted(desired, reported, False, False, after.shadow_version, now, None)
        return self._events(after.tenant_id, after.device_id, None, _doc(before), _doc(after), accepted,
                            desired is not None, None)

    # Internals

    def _load(self, tenant_id: str, device_id: str, name: str | None) -> tuple[ShadowDoc, Twin | None]:
        try:
            twin = self._twins.get(tenant_id, device_id)
        except NotFound as exc:
            raise ShadowRejected(404, "Thing not found") from exc
        if name is None:
            return _doc(twin), twin
        return self._named.get(tenant_id, device_id, name) or ShadowDoc(), twin

    def _apply(self, doc: ShadowDoc, request: UpdateRequest, now: datetime) -> ShadowDoc:
        stamp = iso(now) or ""
        documents: dict[str, tuple[Document, Document]] = {}
        for section, patch, cleared, old, old_meta in (
                ("desired", request.desired, request.clear_desired, doc.desired, doc.desired_metadata),
                ("reported", request.reported, request.clear_reported, doc.reported, doc.reported_metadata)):
            if cleared:
                documents[section] = ({}, {})
            elif patch is not None:
                merged = twin_logic.merge(old, patch)
                size = twin_logic.encoded_size(merged)
                if size > self._limits.max_doc_bytes:
                    raise ShadowRejected(413, "The payload exceeds the maximum size allowed")
                documents[section] = (merged, twin_logic.merge_metadata(old_meta, patch, merged, stamp))
            else:
                documents[section] = (old, old_meta)
        (desired, desired_meta), (reported, reported_meta) = documents["desired"], documents["reported"]
        return ShadowDoc(desired, reported, desired_meta, reported_meta, doc.version + 1, now)

    def _store(self, tenant_id: str, device_id: str, name: str | None, previous: ShadowDoc, twin: Twin | None,
               current: ShadowDoc, desired_changed: bool, now: datetime) -> list[Message] | None:
        """Write the shadow; None when it changed since it was read, else what else to publish."""
        if name is not None:
            stored = self._named.put(tenant_id, device_id, name, previous if previous.version else None, current)
            return [] if stored else None
        assert twin is not None
        desired_version = twin.desired_version + (1 if desired_changed else 0)
        in_sync = not twin_logic.compute_delta(current.desired, current.reported)
        written = twin.model_copy(update={
            "desired": current.desired, "desired_metadata": current.desired_metadata,
            "desired_version": desired_version,
            "reported": current.reported, "reported_metadata": current.reported_metadata,
            "reported_revision": twin.reported_revision + 1,
            # An AWS device confirms nothing by number: an empty delta is its confirmation.
            "reported_version": max(twin.reported_version, desired_version) if in_sync else twin.reported_version,
        })
        if not self._twins.write_document(twin, written, now):
            return None
        heard = self._heard(twin, written)
        if not desired_changed:
            return heard
        # Devices on the project's own topics get the new desired document too.
        return [*heard, Message(device_topic(tenant_id, device_id, DESIRED_SUFFIX),
                                {"desired": written.desired, "version": desired_version}, qos=1, retain=True)]

    def _heard(self, before: Twin, after: Twin) -> list[Message]:
        """What the write listener adds; its failure is logged, never the write's."""
        if self._on_written is None:
            return []
        try:
            return self._on_written(before, after, after.desired, after.reported)
        except Exception:  # the shadow is stored: a failed listener must not turn it into an error
            logger.warning("shadow write listener failed", tenant=after.tenant_id, device=after.device_id,
                           outcome="listener_failed", exc_info=True)
            return []

    def _events(self, tenant_id: str, device_id: str, name: str | None, previous: ShadowDoc,
                current: ShadowDoc, accepted: Document, desired_touched: bool, token: str | None) -> list[Message]:
        now = accepted["timestamp"]
        messages = [self._message(tenant_id, device_id, name, "update/accepted", accepted),
                    self._message(tenant_id, device_id, name, "update/documents",
                                  aws.documents_event(previous, current, now, token))]
        delta = aws.delta_event(current, now, token) if desired_touched else None
        if delta is not None:
            messages.append(self._message(tenant_id, device_id, name, "update/delta", delta))
        return messages

    def _deleted(self, tenant_id: str, device_id: str, name: str | None, version: int, now: datetime,
                 token: str | None) -> Document:
        payload = aws.with_token({"version": version, "timestamp": aws.epoch(now)}, token)
        self._publish(tenant_id, device_id, name, "delete/accepted", payload)
        return payload

    def _reject(self, tenant_id: str, device_id: str, name: str | None, operation: str, code: int, message: str,
                token: str | None) -> None:
        self._publish(tenant_id, device_id, name, f"{operation}/rejected",
                      aws.error(code, message, self._epoch(), token))

    def _publish(self, tenant_id: str, device_id: str, name: str | None, suffix: str, payload: Document) -> None:
        if not self._publisher.publish(self._message(tenant_id, device_id, name, suffix, payload)):
            logger.warning("shadow answer not published", tenant=tenant_id, device=device_id, suffix=suffix,
                           outcome="publish_failed")

    @staticmethod
    def _message(tenant_id: str, device_id: str, name: str | None, suffix: str, payload: Document) -> Message:
        return Message(f"{shadow_prefix(tenant_id, device_id, name)}/{suffix}", payload, qos=1)

    def _epoch(self) -> int:
        return aws.epoch(self._clock())


def _busy() -> Unavailable:
    # Transient (503): over MQTT the bridge redelivers the request instead of dropping it.
    return Unavailable("the shadow is changing too fast; retry", field="shadow")


def _doc(twin: Twin) -> ShadowDoc:
    return ShadowDoc(twin.desired, twin.reported, twin.desired_metadata, twin.reported_metadata,
                     twin.shadow_version, twin.shadow_updated_at)


def _split(route: str) -> tuple[str | None, str]:
    """(shadow name or None for the classic shadow, operation) of a `$aws/shadow/...` route."""
    rest = route[len(SHADOW_ROUTE) + 1:].split("/")
    return (rest[1], rest[2]) if rest[0] == "name" else (None, rest[0])


def _label(tenant_id: str, device_id: str, name: str | None) -> str:
    return name if name is not None else f"{tenant_id}.{device_id}"
