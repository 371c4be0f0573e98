"""Firmware references in job documents and command parameters: checked at creation, resolved per device at delivery.

At creation a reference must name a ready artifact of the caller's tenant (else 404 or
409, naming the field), which is then held (not deletable) until the job or command
expires. At delivery each device gets its own presigned URL, made then and never stored:
signed for its identity, good for `url_ttl_s`. Asking again later gives a fresh one.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.delivery import Document
from chalicelib.core.errors import Conflict, InvalidInput, NotFound
from chalicelib.core.identity import mqtt_username
from chalicelib.core.ids import is_valid_id
from chalicelib.core.policies import FirmwarePolicy
from chalicelib.core.storage.objects import ObjectStore
from chalicelib.firmware import references
from chalicelib.firmware.schemas import Firmware, FirmwareRef, FirmwareStatus
from chalicelib.firmware.store import FirmwareRepository


class FirmwareResolver:
    """The `DocumentResolver` of firmware artifacts."""

    def __init__(self, repository: FirmwareRepository, objects: Callable[[], ObjectStore], policy: FirmwarePolicy,
                 clock: Clock = utcnow) -> None:
        self._repository = repository
        self._objects = objects
        self._policy = policy
        self._clock = clock

    def hold(self, tenant_id: str, document: Document, until: datetime, field: str = "document") -> None:
        """Refuse a reference to a missing, foreign or unready artifact; hold the others until `until`.

        `field` is the request's field the document came in, named by a refused placeholder.
        """
        found = references.find(document)
        if not found:
            return
        ids = list(found.ids) + [self._id_of_url(tenant_id, url, field) for url in found.urls]
        for firmware_id in dict.fromkeys(ids):
            if not is_valid_id(firmware_id):
                raise NotFound(f"firmware {firmware_id} not found", field="firmware_id")
            if not self._repository.hold(tenant_id, firmware_id, until):
                firmware, _ = self._repository.get(tenant_id, firmware_id)  # 404 when missing or foreign
                raise Conflict(f"firmware {firmware_id} is {firmware.status.value}, not ready", field="firmware_id",
                               status=firmware.status.value)

    def _id_of_url(self, tenant_id: str, url: str, field: str) -> str:
        target = references.parse_s3_url(url)
        if target is None or target.bucket != self._policy.bucket:
            raise InvalidInput("a presigned-URL placeholder must name an object of this stage's firmware bucket",
                               field=field)
        firmware_id = references.firmware_id_of_key(tenant_id, target.key)
        if firmware_id is None:  # another tenant's key, or none of ours: the same answer as a missing one
            raise NotFound("the placeholder's object is not a firmware image of this tenant", field=field)
        return firmware_id

    def resolve(self, tenant_id: str, document: Document, device_ids: Sequence[str]) -> list[Document]:
        """Each device's copy: references extended with a URL signed for that device (one read per call)."""
        found = references.find(document)
        if not found or not device_ids:
            return [document] * len(device_ids)
        url_ids = {url: references.firmware_id_of_key(tenant_id, t.key) for url in found.urls
                   if (t := references.parse_s3_url(url)) is not None and t.bucket == self._policy.bucket}
        wanted = [f for f in (*found.ids, *url_ids.values()) if f is not None and is_valid_id(f)]
        artifacts = {fid: (fw, key) for fid, (fw, key) in self._repository.batch_get(tenant_id, wanted).items()
                     if fw.status is FirmwareStatus.READY} if wanted else {}
        ttl = self._policy.url_ttl_s
        expires = self._clock() + timedelta(seconds=ttl)
        out = []
        for device_id in device_ids:
            made: dict[str, FirmwareRef] = {}

            def ref(firmware_id: str, device: str = device_id, cache: dict[str, FirmwareRef] = made) -> \
                    FirmwareRef | None:
                if firmware_id not in artifacts:
                    return None
                if firmware_id not in cache:
                    firmware, key = artifacts[firmware_id]
                    cache[firmware_id] = self._sign(tenant_id, device, firmware, key, ttl, expires)
                return cache[firmware_id]

            def by_id(firmware_id: str) -> dict[str, Any] | None:
                made_ref = ref(firmware_id)
                return made_ref.model_dump(mode="json") if made_ref else None

            def by_url(url: str) -> str | None:
                firmware_id = url_ids.get(url)
                made_ref = ref(firmware_id) if firmware_id else None
                return made_ref.url if made_ref else None

            out.append(references.substitute(document, by_id, by_url))
        return out

    def _sign(self, tenant_id: str, device_id: str, firmware: Firmware, key: str, ttl: int,
              expires: datetime) -> FirmwareRef:
        # The version that was measured: what reached the key after `complete` is never served.
        signed = self._objects().download_url(key, ttl, mqtt_username(tenant_id, device_id),
                                            f"{device_id}-{firmware.version}.bin", firmware.object_version)
        return FirmwareRef(firmware_id=firmware.firmware_id, version=firmware.version, url=signed.url,
                           url_expires_at=expires, headers=signed.headers, sha256=firmware.sha256 or "",
                           size_bytes=firmware.size_bytes or 0)
