"""Getting commands out: the publish at creation, the scheduled retry and the expiry."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.commands.models import CommandRef, ExpiryCandidate, RetryCandidate
from chalicelib.commands.ports import CommandStore
from chalicelib.commands.schemas import Command, CommandEvent, CommandStatus
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.delivery import DocumentResolver
from chalicelib.core.messaging.base import Message, Publisher
from chalicelib.core.observability.log import current_correlation_id, logger
from chalicelib.core.observability.metrics import metrics
from chalicelib.core.policies import CommandPolicy
from chalicelib.core.sweep import Outcome, SweepReport, SweepRunner, each
from chalicelib.core.topics import device_topic

COMMANDS_SUFFIX = "commands"
# Up to this many commands at once get a line each; a bigger fan-out gets one summary line.
LINE_PER_COMMAND_MAX = 20


def command_message(command: Command, references: DocumentResolver | None = None) -> Message:
    """The MQTT message carrying a command to its device (QoS 1, not retained), its references resolved."""
    return Message(
        topic=device_topic(command.tenant_id, command.device_id, COMMANDS_SUFFIX),
        payload=as_delivered(command, references).message().model_dump(mode="json"),
        qos=1,
        retain=False,
        # The device may echo it in its ACK, so the ACK's lines join the command's trace.
        correlation_id=current_correlation_id(),
    )


def as_delivered(command: Command, references: DocumentResolver | None) -> Command:
    """The command as its device receives it: references in its parameters resolved for that device, now.

    Never stored: what is resolved (a presigned URL) is made at each delivery, for one device.
    """
    if references is None or not command.command_params:
        return command
    params = references.resolve(command.tenant_id, command.command_params, [command.device_id])[0]
    return command if params is command.command_params else command.model_copy(update={"command_params": params})


def ref_of(command: Command) -> CommandRef:
    """Where a command lives."""
    return CommandRef(command.tenant_id, command.device_id, command.command_id)


@dataclass
class TickReport(SweepReport):
    """What one run of a scheduled function did (returned by the Lambda, logged)."""

    published: int = 0
    failed: int = 0
    missed: int = 0
    expired: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "examined": self.due}


class CommandDispatcher:
    """Publishes commands and records which ones the broker took."""

    def __init__(self, commands: CommandStore, publisher: Publisher, policy: CommandPolicy,
                 clock: Clock = utcnow, references: DocumentResolver | None = None) -> None:
        self._commands = commands
        self._references = references
        self._publisher = publisher
        self._policy = policy
        self._clock = clock

    def dispatch(self, commands: list[Command]) -> list[Command]:
        """Publish, then mark the published ones; all stay due for the retry until ACKed or fetched."""
        results, published_at = self._publish(commands)
        # The time that was stored: a later GET shows the same published_at as this answer.
        return [c.model_copy(update={"published_at": c.published_at or published_at}) if ok else c
                for c, ok in zip(commands, results, strict=True)]

    def _publish(self, commands: list[Command]) -> tuple[list[bool], datetime]:
        """Publish; mark the ones the broker took, all with one time, returned beside the results."""
        if not commands:
            return [], self._clock()
        results = self._publisher.publish_many([command_message(c, self._references) for c in commands])
        now = self._clock()
        each(lambda c: self._commands.mark_published(ref_of(c), now),
             [c for c, ok in zip(commands, results, strict=True) if ok])
        _log_publishes(commands, results)
        return list(results), now

    def dispatch_written(self, commands: list[Command]) -> list[Command]:
        """Publish commands stored with the published_at of this round; undo it for those the broker refused.

        The outcome rides in the commands' own batch write, so a fan-out costs no write per
        command; only a refused publish (rare: the broker is down) costs one UpdateItem.
        """
        if not commands:
            return []
        results = self._publisher.publish_many([command_message(c) for c in commands])

        def unmark(command: Command) -> None:
            if command.published_at is not None:
                self._commands.unmark_published(ref_of(command), command.published_at)

        each(unmark, [c for c, ok in zip(commands, results, strict=True) if not ok])
        _log_publishes(commands, results)
        return [c if ok else c.model_copy(update={"published_at": None})
                for c, ok in zip(commands, results, strict=True)]

    def redeliver(self, tenant_id: str, device_id: str) -> int:
        """Republish the device's queued, unexpired commands, oldest first; how many the broker took.

        For a device that is back (its first message after being away) or asks
        (`commands/request`): what was published while it was offline never reached it.
        This is delivery on the device's word, so it spends none of the retry attempts.
        """
        pending = self._commands.pending(tenant_id, device_id, self._clock(), self._policy.pending_limit)
        return sum(self._publish(pending)[0])

    def handle_request(self, tenant_id: str, device_id: str, suffix: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Router handler for tenant/{t}/device/{d}/commands/request (any JSON object as payload)."""
        return {"device_id": device_id, "republished": self.redeliver(tenant_id, device_id)}

    def retry_due(self, now: datetime) -> TickReport:
        """Republish every command whose next attempt is due, claiming each one first.

        An attempt is an attempt to reach the device: a command the broker took but the
        device never ACKed (it was offline, its session clean) is published again, up to
        max_attempts in all, until an ACK or an HTTP fetch takes it off the retry index.

        The claim is a conditional write, so concurrent runs (an overlapping schedule, a
        manual run) publish each command once per attempt.
        """
        claimed: list[Command] = []

        def claim(candidate: RetryCandidate) -> Outcome:
            attempt = candidate.publish_attempts + 1
            command = self._commands.claim_retry(candidate, now, self._policy.next_attempt(now, attempt))
            if command is None:
                return Outcome.SKIPPED
            claimed.append(command)
            return Outcome.DONE

        report = SweepRunner(self._commands.shards).run(
            TickReport(), lambda shard: self._commands.retry_candidates(shard, now, self._policy.sweep_limit), claim)
        for command in self.dispatch(claimed):
            if command.published_at is None:
                report.failed += 1
            else:
                report.published += 1
        return report


class CommandExpiry:
    """Closes queued commands past expires_at: missed if they may have reached the device, else expired."""

    def __init__(self, commands: CommandStore, policy: CommandPolicy) -> None:
        self._commands = commands
        self._policy = policy

    def expire_due(self, now: datetime) -> TickReport:
        """One pass over the expiry index: the cost follows what expired, not the table size."""
        closed: list[CommandStatus] = []

        def close(candidate: ExpiryCandidate) -> Outcome:
            done = self._close(candidate, now)
            if done is None:
                return Outcome.SKIPPED  # an ACK won the race
            closed.append(done.status)
            return Outcome.DONE

        report = SweepRunner(self._commands.shards).run(
            TickReport(), lambda shard: self._commands.expiry_candidates(shard, now, self._policy.sweep_limit), close,
            workers=8)
        report.missed = closed.count(CommandStatus.MISSED)
        report.expired = len(closed) - report.missed
        return report

    def _close(self, candidate: ExpiryCandidate, now: datetime) -> Command | None:
        done = self._transition(candidate, now)
        if done is not None:
            metrics.count("CommandsMissed" if done.status is CommandStatus.MISSED else "CommandsExpired")
            logger.info("command closed", tenant=done.tenant_id, device=done.device_id, command_id=done.command_id,
                        outcome=done.status.value, publish_attempts=done.publish_attempts)
        return done

    def _transition(self, candidate: ExpiryCandidate, now: datetime) -> Command | None:
        first = CommandEvent.EXPIRED_SEEN if candidate.seen else CommandEvent.EXPIRED_UNSEEN
        done = self._commands.transition(candidate.ref, CommandStatus.QUEUED, first, now)
        if done is None:
            # The index lags the item (published or fetched meanwhile): try the other outcome.
            other = CommandEvent.EXPIRED_UNSEEN if candidate.seen else CommandEvent.EXPIRED_SEEN
            done = self._commands.transition(candidate.ref, CommandStatus.QUEUED, other, now)
        return done


def _log_publishes(commands: list[Command], results: list[bool]) -> None:
    published = sum(results)
    metrics.count("CommandsPublished", published)
    metrics.count("CommandsPublishFailed", len(results) - published)
    if len(commands) > LINE_PER_COMMAND_MAX:
        logger.info("commands published", count=len(commands), published=published,
                    outcome="published" if published == len(commands) else "partly_failed")
        return
    for command, ok in zip(commands, results, strict=True):
        line = logger.info if ok else logger.warning
        line("command published" if ok else "command publish failed", tenant=command.tenant_id,
             device=command.device_id, command_id=command.command_id, attempt=command.publish_attempts,
             outcome="published" if ok else "publish_failed")
