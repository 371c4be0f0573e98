"""Firmware artifacts: create with an upload URL, complete (measure and vouch for the upload), list, show, delete."""
from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.errors import Conflict, InvalidInput
from chalicelib.core.ids import new_id
from chalicelib.core.observability.log import logger
from chalicelib.core.observability.metrics import metrics
from chalicelib.core.policies import FirmwarePolicy
from chalicelib.core.storage.cursors import Page
from chalicelib.core.storage.objects import Digest, ObjectStore
from chalicelib.firmware.schemas import CreateFirmware, Firmware, FirmwareStatus, UploadTicket
from chalicelib.firmware.store import FirmwareRepository


class VersionCounts(Protocol):
    """Devices per reported firmware version (the fleet view)."""

    def version_counts(self, tenant_id: str, scope: str) -> dict[str, int]: ...


def object_key(tenant_id: str, firmware_id: str, version: str) -> str:
    """Where an artifact's image lives: under its tenant's prefix, so a key names its owner."""
    return f"{tenant_id}/{firmware_id}/{version}.bin"


def verdict(firmware: Firmware, digest: Digest) -> tuple[FirmwareStatus, str | None]:
    """Ready, or rejected with the reason: bigger than allowed, another size or checksum than declared."""
    if digest.truncated or digest.size > firmware.max_size_bytes:
        return FirmwareStatus.REJECTED, (f"the upload is {digest.size} bytes, more than the declared maximum "
                                         f"of {firmware.max_size_bytes}")
    if firmware.declared_size_bytes is not None and digest.size != firmware.declared_size_bytes:
        return FirmwareStatus.REJECTED, (f"the upload is {digest.size} bytes, not the declared "
                                         f"{firmware.declared_size_bytes}")
    if firmware.declared_sha256 is not None and digest.sha256 != firmware.declared_sha256:
        return FirmwareStatus.REJECTED, f"checksum mismatch: the upload's SHA-256 is {digest.sha256}"
    return FirmwareStatus.READY, None


class FirmwareService:
    """The operator's use cases of firmware artifacts."""

    def __init__(self, repository: FirmwareRepository, objects: ObjectStore, policy: FirmwarePolicy,
                 clock: Clock = utcnow) -> None:
        self._repository = repository
        self._objects = objects
        self._policy = policy
        self._clock = clock

    def create(self, tenant_id: str, request: CreateFirmware, created_by: str | None = None) -> UploadTicket:
        """A new artifact waiting for its image, and the one-time presigned PUT to upload it."""
        limit = self._policy.max_size_bytes
        for name in ("size_bytes", "max_size_bytes"):
            value = getattr(request, name)
            if value is not None and value > limit:
                raise InvalidInput(f"{name} exceeds this stage's limit of {limit} bytes", field=name, limit=limit)
        if request.size_bytes and request.max_size_bytes and request.size_bytes > request.max_size_bytes:
            raise InvalidInput("size_bytes is more than max_size_bytes", field="size_bytes")
        now = self._clock()
        firmware = Firmware(
            tenant_id=tenant_id, firmware_id=new_id("fw"), version=request.version, device_model=request.device_model,
            notes=request.notes, status=FirmwareStatus.PENDING_UPLOAD, declared_size_bytes=request.size_bytes,
            max_size_bytes=request.max_size_bytes or request.size_bytes or limit, declared_sha256=request.sha256,
            created_at=now, created_by=created_by,
        )
        key = object_key(tenant_id, firmware.firmware_id, firmware.version)
        self._repository.create(firmware, key)
        ttl = self._policy.upload_ttl_s
        upload = self._objects.upload_url(key, ttl, size=request.size_bytes, sha256=request.sha256)
        logger.info("firmware created", tenant=tenant_id, firmware_id=firmware.firmware_id, version=firmware.version)
        return UploadTicket(firmware=firmware, upload_url=upload.url, upload_headers=upload.headers,
                            upload_expires_at=now + timedelta(seconds=ttl))

    def complete(self, tenant_id: str, firmware_id: str) -> Firmware:
        """Measure the uploaded image (size, SHA-256) and mark the artifact ready or rejected.

        Idempotent: a completed artifact is returned as it is. A rejected image is deleted,
        so nothing can ever serve it.
        """
        firmware, key = self._repository.get(tenant_id, firmware_id)
        if firmware.status is not FirmwareStatus.PENDING_UPLOAD:
            return firmware
        digest = self._objects.digest(key, firmware.max_size_bytes)
        if digest is None:
            raise Conflict(f"firmware {firmware_id} has no uploaded image yet", field="firmware_id")
        status, reason = verdict(firmware, digest)
        done = firmware.model_copy(update={
            "status": status, "reason": reason, "completed_at": self._clock(), "size_bytes": digest.size,
            "sha256": digest.sha256 or None, "object_version": digest.version_id,
        })
        if not self._repository.complete(done):  # another completion won: it measured the same upload
            return self._repository.get(tenant_id, firmware_id)[0]
        if status is FirmwareStatus.REJECTED:
            self._objects.delete(key)
        metrics.count_by("FirmwareCompleted", "status", status.value)
        logger.info("firmware completed", tenant=tenant_id, firmware_id=firmware_id, outcome=status.value,
                    size=digest.size)
        return done

    def get(self, tenant_id: str, firmware_id: str) -> Firmware:
        """One artifact of the tenant; 404 for a foreign or missing one."""
        return self._repository.get(tenant_id, firmware_id)[0]

    def list_page(self, tenant_id: str, limit: int, next_token: str | None,
                  status: FirmwareStatus | None = None) -> Page[Firmware]:
        """A page of the tenant's artifacts."""
        return self._repository.list_page(tenant_id, limit, next_token, status)

    def delete(self, tenant_id: str, firmware_id: str) -> None:
        """Delete an artifact and every version of its image; 409 while a job or command still uses it."""
        key = self._repository.delete(tenant_id, firmware_id, self._clock())
        self._objects.delete(key)
        logger.info("firmware deleted", tenant=tenant_id, firmware_id=firmware_id)
