"""Device twin use cases: operator view and PATCH, device pull and report (HTTP and MQTT)."""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import Conflict, InvalidInput, PayloadTooLarge, Unavailable
from chalicelib.core.messaging.base import Message, Publisher
from chalicelib.core.observability.log import logger
from chalicelib.core.observability.metrics import metrics
from chalicelib.core.policies import TwinLimits
from chalicelib.core.topics import device_topic
from chalicelib.twin import rules as twin_logic
from chalicelib.twin.ports import TwinStore
from chalicelib.twin.schemas import PatchDesired, ReportState, Twin

# on_written(before, after, desired patch, reported patch) -> more messages to publish with the write's own.
WriteListener = Callable[[Twin, Twin, "dict[str, Any] | None", "dict[str, Any] | None"], list[Message]]
DESIRED_SUFFIX = "shadow/desired"
REPORTED_SUFFIX = "shadow/reported"


class TwinService:
    """Every twin write is a read of the device item and one UpdateItem conditioned on that read."""

    def __init__(self, twins: TwinStore, publisher: Publisher, limits: TwinLimits | None = None,
                 clock: Clock = utcnow, sleep: Callable[[float], None] = time.sleep,
                 jitter: Callable[[], float] = random.random, on_written: WriteListener | None = None) -> None:
        self._twins = twins
        self._publisher = publisher
        self._limits = limits or TwinLimits()
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self._on_written = on_written

    # Operator side

    def view(self, tenant_id: str, device_id: str) -> dict[str, Any]:
        """The whole twin with its delta and sync status."""
        return self._view(self._twins.get(tenant_id, device_id))

    def delta(self, tenant_id: str, device_id: str) -> dict[str, Any]:
        """What the device still has to apply; in_sync when nothing is left."""
        twin = self._twins.get(tenant_id, device_id)
        delta = twin_logic.compute_delta(twin.desired, twin.reported)
        return {"delta": delta, "in_sync": not delta,
                "desired_version": twin.desired_version, "reported_version": twin.reported_version}

    def patch_desired(self, tenant_id: str, device_id: str, request: PatchDesired) -> dict[str, Any]:
        """Merge into desired, bump desired_version by one, publish the result retained."""
        self._check_depth("desired", request.desired)
        for _ in self._limits.write_retry.retries(self._sleep, self._jitter):
            twin = self._twins.get(tenant_id, device_id)
            if request.version is not None and request.version != twin.desired_version:
                _conflict("desired", tenant_id, device_id, twin.desired_version)
                raise Conflict(f"desired version is {twin.desired_version}, not {request.version}",
                               field="version", current=twin.desired_version)
            now = self._clock()
            desired = twin_logic.merge(twin.desired, request.desired)
            self._check_size("desired", desired)
            metadata = twin_logic.merge_metadata(twin.desired_metadata, request.desired, desired, _stamp(now))
            version = twin.desired_version + 1
            if self._twins.write_desired(twin, desired, metadata, version, now):
                written = twin.model_copy(update={
                    "desired": desired, "desired_metadata": metadata, "desired_version": version,
                    "shadow_updated_at": now, "shadow_version": twin.shadow_version + 1})
                published = self._publish_desired(written, self._events(twin, written, request.desired, None))
                metrics.count("TwinDesiredUpdates")
                logger.info("twin desired updated", tenant=tenant_id, device=device_id, version=version,
                            outcome="published" if published else "publish_failed")
                return {**self._view(written), "published": published}
        # Transient (503): over MQTT the bridge must redeliver it, not drop it as refused.
        raise Unavailable("the twin is changing too fast; retry", field="device_id")

    # Device side

    def shadow(self, tenant_id: str, device_id: str) -> dict[str, Any]:
        """What a device pulls over HTTP: the desired document and its version."""
        twin = self._twins.get(tenant_id, device_id)
        return {"desired": twin.desired, "version": twin.desired_version}

    def report(self, tenant_id: str, device_id: str, request: ReportState) -> dict[str, Any]:
        """Merge reported state; `version` (the desired version applied) becomes reported_version."""
        self._check_depth("reported", request.reported)
        for _ in self._limits.write_retry.retries(self._sleep, self._jitter):
            twin = self._twins.get(tenant_id, device_id)
            if request.version is not None and request.version > twin.desired_version:
                # A device may only confirm what was asked of it.
                _conflict("reported", tenant_id, device_id, twin.desired_version)
                raise Conflict(f"version {request.version} is newer than desired version {twin.desired_version}",
                               field="version", current=twin.desired_version)
            reported = twin_logic.merge(twin.reported, request.reported)
            self._check_size("reported", reported)
            version = max(twin.reported_version, request.version or 0)
            if twin_logic.same_value(reported, twin.reported) and version == twin.reported_version:
                written = True  # a duplicate (QoS 1 redelivery, retry): nothing to store
            else:
                now = self._clock()
                metadata = twin_logic.merge_metadata(twin.reported_metadata, request.reported, reported, _stamp(now))
                written = self._twins.write_reported(twin, reported, metadata, version, now)
                if written:
                    events = self._events(twin, twin.model_copy(update={
                        "reported": reported, "reported_metadata": metadata, "reported_version": version,
                        "shadow_updated_at": now, "shadow_version": twin.shadow_version + 1}),
                        None, request.reported)
                    if events:
                        self._publisher.publish_many(events)
            if written:
                metrics.count("TwinReports")
                logger.info("twin reported", tenant=tenant_id, device=device_id, version=version,
                            outcome="in_sync" if version >= twin.desired_version else "behind")
                if request.version is not None and request.version < twin.desired_version:
                    self._heal(twin, request.version)
                return {"accepted": True, "version": version}
        # Transient (503): over MQTT the bridge must redeliver it, not drop it as refused.
        raise Unavailable("the twin is changing too fast; retry", field="device_id")

    def on_reported_message(self, tenant_id: str, device_id: str, suffix: str,
                            payload: dict[str, Any]) -> dict[str, Any]:
        """MQTT `shadow/reported` handler for the device-message router (same code as HTTP)."""
        return self.report(tenant_id, device_id, ReportState.model_validate(payload))

    # Internals

    def _view(self, twin: Twin) -> dict[str, Any]:
        status = twin_logic.sync_status(twin.desired_version, twin.reported_version, twin.last_seen_at,
                                        now=self._clock(), stale_after=self._limits.stale_after)
        return {
            "device_id": twin.device_id,
            "desired": twin.desired,
            "reported": twin.reported,
            "delta": twin_logic.compute_delta(twin.desired, twin.reported),
            "desired_version": twin.desired_version,
            "reported_version": twin.reported_version,
            "sync_status": status.value,
            "shadow_updated_at": twin.shadow_updated_at,
            "last_seen_at": twin.last_seen_at,
            "metadata": {"desired": twin.desired_metadata, "reported": twin.reported_metadata},
        }

    def _publish_desired(self, twin: Twin, events: list[Message] | None = None) -> bool:
        message = Message(device_topic(twin.tenant_id, twin.device_id, DESIRED_SUFFIX),
                          {"desired": twin.desired, "version": twin.desired_version}, qos=1, retain=True)
        # One pipelined batch: the events cost no extra round trip to the broker.
        published = self._publisher.publish_many([message, *events])[0] if events else self._publisher.publish(message)
        if not published:
            logger.warning("desired not published; the device gets it on its next report or pull",
                           tenant=twin.tenant_id, device=twin.device_id, version=twin.desired_version,
                           outcome="publish_failed")
        return published

    def _events(self, before: Twin, after: Twin, desired: dict[str, Any] | None,
                reported: dict[str, Any] | None) -> list[Message]:
        if self._on_written is None:
            return []
        try:
            return self._on_written(before, after, desired, reported)
        except Exception:  # the write is stored: a failed event must not turn it into an error
            logger.warning("twin write listener failed", tenant=after.tenant_id, device=after.device_id,
                           outcome="listener_failed", exc_info=True)
            return []

    def _heal(self, twin: Twin, applied: int) -> None:
        # Two PATCHes racing can publish out of order and leave an older version retained,
        # and a publish can fail outright. A device confirming an old version is the cheap
        # signal (no extra read on the PATCH path): republish the current desired document.
        # Read again: a PATCH may have landed since this report read the twin, and the
        # retained message must never go back to an older document.
        current = self._twins.get(twin.tenant_id, twin.device_id)
        logger.info("device applied an older desired version: republishing", tenant=twin.tenant_id,
                    device=twin.device_id, applied=applied, version=current.desired_version, outcome="republished")
        self._publish_desired(current)

    def _check_depth(self, field: str, document: dict[str, Any]) -> None:
        limit = self._limits.max_depth
        if twin_logic.depth(document) > limit:
            raise InvalidInput(f"{field} nests deeper than the limit of {limit} levels", field=field, limit=limit)

    def _check_size(self, field: str, document: dict[str, Any]) -> None:
        limit = self._limits.max_doc_bytes
        size = twin_logic.encoded_size(document)
        if size > limit:
            raise PayloadTooLarge(f"{field} document would be {size} bytes, over the limit of {limit} bytes",
                                  field=field, limit=limit, size=size)


def _stamp(now: datetime) -> str:
    return iso(now) or ""


def _conflict(side: str, tenant_id: str, device_id: str, current: int) -> None:
    metrics.count_by("TwinConflicts", "side", side)
    logger.info("twin version conflict", tenant=tenant_id, device=device_id, side=side, version=current,
                outcome="conflict")
