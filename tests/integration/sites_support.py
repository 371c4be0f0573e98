"""Helpers of the sites tests: a recording welcome port and a world of services on one clock."""
from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.container import container
from chalicelib.core.errors import Unavailable
from chalicelib.devices.schemas import CreateDevice
from chalicelib.devices.service import DeviceService
from chalicelib.sites.fanout import FanoutPolicy
from chalicelib.sites.mapping import MappingService
from chalicelib.sites.schemas import CreateSite
from chalicelib.sites.service import SiteService
from tests.support import Clock

# Saturday before Berlin's clocks go forward (Sunday 30 March 2025, 02:00 -> 03:00).
BEFORE_MARCH_CHANGE = datetime(2025, 3, 29, 12, 0, tzinfo=UTC)
SUNDAY_0600_CEST = datetime(2025, 3, 30, 4, 0, tzinfo=UTC)


@dataclass
class FakeWelcomeSender:
    """Records what would be queued; can be told to fail."""

    sent: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)
    fail: bool = False
    fail_batches: set[int] = field(default_factory=set)  # 1-based send_many calls that fail
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, tenant_id: str, device_id: str, params: dict[str, Any], created_by: str) -> str | None:
        if self.fail:
            raise RuntimeError("command table unavailable")
        with self.lock:
            self.sent.append((tenant_id, device_id, params))
            return f"cmd-{len(self.sent)}"

    def send_many(self, tenant_id: str, items: list[tuple[str, dict[str, Any]]], created_by: str) -> list[str]:
        with self.lock:
            if len(self.batches) + 1 in self.fail_batches:
                self.fail_batches.discard(len(self.batches) + 1)
                raise Unavailable("command table unavailable")
            self.batches.append(len(items))
            self.sent += [(tenant_id, d, p) for d, p in items]
            return [f"cmd-{i}" for i in range(len(items))]

    def to(self, device_id: str) -> list[dict[str, Any]]:
        return [p for _, d, p in self.sent if d == device_id]


@dataclass
class World:
    tenant: str
    clock: Clock
    sender: FakeWelcomeSender
    sites: SiteService
    mapping: MappingService
    registry: DeviceService  # reads on the world's clock (next wake times roll forward on read)

    def device(self, device_id: str) -> str:
        container().device_service.create(self.tenant, CreateDevice(device_id=device_id))
        return device_id

    def site(self, site_id: str, cron: str = "0 6 * * *", tz: str = "Europe/Berlin") -> str:
        self.sites.create(self.tenant, CreateSite(site_id=site_id, name=site_id.title(),
                                                  wake_schedule_cron=cron, timezone=tz))
        return site_id


def make_world(policy: FanoutPolicy | None = None, budget_s: float = 20.0) -> World:
    """Services over the emulator with a recording welcome port and a controlled clock."""
    clock = Clock(BEFORE_MARCH_CHANGE)
    sender = FakeWelcomeSender()
    c = container()
    sites = SiteService(c.site_repository, c.site_device_repository, sender, clock,
                        policy=policy or FanoutPolicy(lease=timedelta(seconds=120)), budget_s=budget_s)
    mapping = MappingService(c.site_repository, c.site_device_repository, c.device_service, sender, clock)
    registry = DeviceService(c.device_repository, c.group_repository, clock=clock,
                             wake_lookup=site_schedule)
    return World(f"t-{uuid.uuid4().hex[:10]}", clock, sender, sites, mapping, registry)


def site_schedule(tenant_id: str, site_id: str) -> tuple[str, str] | None:
    """The wake lookup the registry is wired with."""
    found = container().site_repository.find(tenant_id, site_id)
    return (found.wake_schedule_cron, found.timezone) if found else None
