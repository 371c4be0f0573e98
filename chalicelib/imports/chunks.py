"""One chunk of an import: its rows checked against the registry, its devices created, its results."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chalicelib.core.auth import tokens
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.errors import InvalidInput
from chalicelib.core.ids import new_id
from chalicelib.core.observability.log import logger
from chalicelib.devices.schemas import Device, DeviceStatus
from chalicelib.imports.certs import CertificateIssuer, certificate_of
from chalicelib.imports.device_store import BulkDeviceWriter, Existing, NewDevice
from chalicelib.imports.schemas import RowOutcome
from chalicelib.imports.store import Chunk, ChunkDone, ImportRepository
from chalicelib.sites.rules import next_wake, welcome_params
from chalicelib.sites.schemas import Site
from chalicelib.sites.welcome import WakeParams, WelcomeSender

# (tenant_id, created device ids, group_id -> its created members): continuous jobs take them in.
Joined = Callable[[str, list[str], dict[str, list[str]]], object]


class CredentialsEpoch(Protocol):
    """The registry's signal to the broker sync that credentials changed."""

    def credentials_changed(self) -> None:
        """Bump the credential epoch."""


@dataclass
class _Plan:
    """A chunk being worked out: its rows' results so far and the devices left to create."""

    results: dict[int, dict[str, Any]]
    create: list[tuple[dict[str, Any], NewDevice]]
    credentials: list[list[str]]
    welcomes: list[tuple[str, WakeParams]]


class ChunkRunner:
    """Does one chunk; the same chunk done again after a crash gives the same results, creating nothing twice."""

    def __init__(self, imports: ImportRepository, writer: BulkDeviceWriter, welcome: WelcomeSender,
                 epoch: CredentialsEpoch, issuer: CertificateIssuer, joined: Joined | None = None,
                 clock: Clock = utcnow) -> None:
        self._imports = imports
        self._writer = writer
        self._welcome = welcome
        self._epoch = epoch
        self._issuer = issuer
        self._joined = joined
        self._clock = clock

    def run(self, tenant_id: str, import_id: str, chunk: Chunk, actor: str) -> ChunkDone:
        """Create the chunk's new devices and say what became of each row."""
        now = self._clock()
        rows = [r for r in chunk.rows if "error" not in r]
        plan = _Plan({r["row"]: _result(r, RowOutcome.REFUSED, r["error"], r["field"])
                      for r in chunk.rows if "error" in r}, [], [], [])
        groups = self._writer.groups(tenant_id, sorted({g for r in rows for g in r.get("groups", [])}))
        sites = self._writer.sites(tenant_id, sorted({r["site"] for r in rows if r.get("site")}))
        existing = self._writer.existing(tenant_id, [r["device_id"] for r in rows])
        mapping_ids = {site_id: new_id() for site_id in sites}
        wakes = {site_id: next_wake(s.wake_schedule_cron, s.timezone, now) for site_id, s in sites.items()}
        pending, held = dict(chunk.pending), dict(chunk.pending_certs)
        try:
            for r in rows:
                self._plan_row(tenant_id, r, plan, groups, sites, existing, (pending, held), mapping_ids, wakes, now)
        except Exception:
            # The authority failed part-way (AWS IoT unreachable): keep what it signed, so the redo writes those
            # certificates instead of having a second signed for the same rows.
            if held != chunk.pending_certs:
                self._imports.hold_tokens(tenant_id, import_id, chunk.number, pending, held)
            raise
        if any(pending.get(i) != chunk.pending.get(i) or held.get(i) != chunk.pending_certs.get(i)
               for i in (d.device.device_id for _, d in plan.create)):
            self._imports.hold_tokens(tenant_id, import_id, chunk.number, pending, held)
        written = self._writer.create(tenant_id, [d for _, d in plan.create], now)
        by_id = {d.device.device_id: (r, d) for r, d in plan.create}
        for device_id in written.created:
            r, d = by_id[device_id]
            self._created(r, d.token, held.get(device_id) if d.certificate else None, plan)
            if d.device.site_id is not None:
                site = sites[d.device.site_id]
                plan.welcomes.append((device_id, welcome_params(site, wakes[site.site_id], d.mapping_id)))
        for device_id in written.existed:
            r, _ = by_id[device_id]
            plan.results[r["row"]] = _result(r, RowOutcome.EXISTED, f"device {device_id} exists already", "device_id")
        for device_id, (reason, field) in written.refused.items():
            r, _ = by_id[device_id]
            plan.results[r["row"]] = _result(r, RowOutcome.REFUSED, reason, field)
        self._after(tenant_id, plan, written.created, by_id, actor)
        results = [plan.results[n] for n in sorted(plan.results)]
        counts = {o: sum(1 for r in results if r["outcome"] == o.value) for o in RowOutcome}
        return ChunkDone(results, plan.credentials, counts[RowOutcome.CREATED], counts[RowOutcome.EXISTED],
                         counts[RowOutcome.REFUSED])

    def _plan_row(self, tenant_id: str, r: dict[str, Any], plan: _Plan, groups: set[str], sites: dict[str, Site],
                  existing: dict[str, Existing], holding: tuple[dict[str, str], dict[str, list[str]]],
                  mapping_ids: dict[str, str], wakes: dict[str, datetime], now: datetime) -> None:
        device_id = r["device_id"]
        pending, held = holding
        missing_group = next((g for g in r.get("groups", []) if g not in groups), None)
        if missing_group is not None:
            plan.results[r["row"]] = _result(r, RowOutcome.REFUSED, f"group {missing_group} not found", "groups")
            return
        site_id = r.get("site")
        if site_id and site_id not in sites:
            plan.results[r["row"]] = _result(r, RowOutcome.REFUSED, f"site {site_id} not found", "site")
            return
        found = existing.get(device_id)
        if found is not None:
            mine = device_id in pending and tokens.token_hash(pending[device_id]) == found.token_hash
            if not mine:
                plan.results[r["row"]] = _result(r, RowOutcome.EXISTED, f"device {device_id} exists already",
                                                 "device_id")
                return
            # Made by an earlier run of this chunk that died before recording it: created, with that token
            # (and the certificate written in the same transaction as the device).
            self._created(r, pending[device_id], held.get(device_id) if r.get("certificate") else None, plan)
            if found.site_id and found.next_wake_at and found.site_id in sites:
                plan.welcomes.append((device_id, welcome_params(sites[found.site_id], found.next_wake_at,
                                                                found.mapping_id)))
            return
        certificate = None
        if r.get("certificate"):
            try:
                if device_id not in held:  # a redo writes the certificate it held, never a second one
                    held[device_id] = self._issuer.issue(tenant_id, device_id)
            except InvalidInput as exc:  # the row's fault (a name no certificate can hold): the others go on
                plan.results[r["row"]] = _result(r, RowOutcome.REFUSED, exc.message, "certificate")
                return
            certificate = certificate_of(tenant_id, device_id, held[device_id], now)
        token = pending.setdefault(device_id, tokens.new_token())
        site = sites.get(site_id) if site_id else None
        device = Device(tenant_id=tenant_id, device_id=device_id, name=r.get("name"),
                        attributes=r.get("attributes", {}), created_at=now,
                        status=DeviceStatus.ACTIVE if site else DeviceStatus.PENDING_MAPPING,
                        site_id=site.site_id if site else None, next_wake_at=wakes[site.site_id] if site else None)
        plan.create.append((r, NewDevice(device, token, tuple(r.get("groups", [])),
                                         site.schedule_version if site else None,
                                         mapping_ids[site.site_id] if site else None, certificate)))

    @staticmethod
    def _created(r: dict[str, Any], token: str, certificate: list[str] | None, plan: _Plan) -> None:
        plan.results[r["row"]] = _result(r, RowOutcome.CREATED)
        plan.credentials.append([r["device_id"], token, *(certificate or [])])

    def _after(self, tenant_id: str, plan: _Plan, created: list[str],
               by_id: dict[str, tuple[dict[str, Any], NewDevice]], actor: str) -> None:
        """What follows a creation: the broker learns the credentials, mapped devices their welcome, jobs joiners."""
        if created:
            self._epoch.credentials_changed()
        if plan.welcomes:
            self._welcome.send_many(tenant_id, plan.welcomes, actor)
        if self._joined is not None and created:
            members: dict[str, list[str]] = {}
            for device_id in created:
                for group_id in by_id[device_id][1].groups:
                    members.setdefault(group_id, []).append(device_id)
            try:
                self._joined(tenant_id, created, members)
            except Exception:  # the devices exist; a listener's failure must not redo the chunk
                logger.warning("continuous jobs did not take the imported devices in", tenant=tenant_id,
                               count=len(created), outcome="failed", exc_info=True)


def _result(r: dict[str, Any], outcome: RowOutcome, reason: str | None = None,
            field: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"row": r["row"], "outcome": outcome.value}
    if r.get("device_id"):
        result["device_id"] = r["device_id"]
    if reason is not None:
        result["reason"] = reason
        result["field"] = field
    return result
