"""Device use cases of commands: poll the pending ones, acknowledge one (HTTP and MQTT alike)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.commands.delivery import CommandPolicy, as_delivered, ref_of
from chalicelib.commands.models import CommandRef
from chalicelib.commands.ports import CommandStore
from chalicelib.commands.schemas import AckCommand, AckResult, Command, CommandEvent, CommandStatus, MqttAck
from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.delivery import DocumentResolver
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.ids import is_valid_id
from chalicelib.core.observability.log import logger
from chalicelib.core.observability.metrics import metrics
from chalicelib.core.sweep import each


class DeviceCommandService:
    """What a device does with its commands; the HTTP routes and the MQTT router both call it."""

    def __init__(self, commands: CommandStore, policy: CommandPolicy, clock: Clock = utcnow,
                 references: DocumentResolver | None = None) -> None:
        self._commands = commands
        self._references = references
        self._policy = policy
        self._clock = clock

    def pending(self, tenant_id: str, device_id: str) -> list[Command]:
        """Queued, unexpired commands, oldest first, as delivered (references resolved for this device, now);
        fetching one counts as handing it over."""
        now = self._clock()
        commands = self._commands.pending(tenant_id, device_id, now, self._policy.pending_limit)
        # Written once per command: it makes an unpublished command `missed`, not `expired`,
        # if it is never ACKed, and stops its MQTT retries.
        each(lambda c: self._commands.mark_fetched(ref_of(c), now), [c for c in commands if c.fetched_at is None])
        return [as_delivered(c if c.fetched_at else c.model_copy(update={"fetched_at": now}), self._references)
                for c in commands]

    def acknowledge(self, tenant_id: str, device_id: str, command_id: str, ack: AckCommand) -> AckResult:
        """queued -> delivered. Repeating the same ACK is harmless; a final command is 409, a foreign one 404."""
        if not is_valid_id(command_id):
            raise NotFound(f"command {command_id} not found", field="command_id")
        ref = CommandRef(tenant_id, device_id, command_id)
        details = ack.as_details()
        now = self._clock()
        done = self._commands.transition(ref, CommandStatus.QUEUED, CommandEvent.ACKED, now, ack_details=details)
        if done is not None:
            _acked(done, now, ack.status)
            return AckResult(command_id=command_id)
        # The conditional write lost: read why (only on this path, so an ACK costs one write).
        current = self._commands.get(ref)
        keys: dict[str, object] = {"tenant": tenant_id, "device": device_id, "command_id": command_id}
        if current is None:
            logger.info("command ack refused", extra=keys, outcome="not_found")
            raise NotFound(f"command {command_id} not found", field="command_id")
        if current.status is CommandStatus.DELIVERED and current.ack_details == details:
            logger.info("command acked", extra=keys, outcome="duplicate")
            return AckResult(command_id=command_id)
        logger.info("command ack refused", extra=keys, outcome="conflict", status=current.status.value)
        if current.status is CommandStatus.QUEUED and current.expires_at <= now:
            # Expired, not yet swept: the sweep will close it as missed or expired, never delivered.
            raise Conflict(f"command {command_id} expired at {iso(current.expires_at)}", field="command_id",
                           status=current.status.value, expires_at=current.expires_at)
        raise Conflict(f"command {command_id} is already {current.status.value}", field="command_id",
                       status=current.status.value)

    def handle_mqtt_ack(self, tenant_id: str, device_id: str, suffix: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Router handler for tenant/{t}/device/{d}/commands/ack."""
        ack = MqttAck.model_validate(payload)
        return self.acknowledge(tenant_id, device_id, ack.command_id, ack).model_dump(mode="json")


def _acked(command: Command, now: datetime, device_status: str) -> None:
    """The delivered line and metrics: how long from the first publish (or the creation) to the ACK."""
    since = command.published_at or command.created_at
    latency_ms = max(0.0, (now - since).total_seconds() * 1000)
    metrics.count("CommandsDelivered")
    metrics.milliseconds("CommandAckLatency", latency_ms)
    logger.info("command acked", tenant=command.tenant_id, device=command.device_id, command_id=command.command_id,
                outcome="delivered", device_status=device_status, ack_latency_ms=round(latency_ms, 1))
