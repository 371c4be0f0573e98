"""Keeps the local broker's password and ACL files in step with the device registry.

It polls one counter item (bumped on every credential change) and only re-reads the
credentials when it moved, so an idle registry costs one GetItem a second.

`sync_once` runs on the sync thread and from callers that need the broker current now
(the demo, tests), so one lock makes each sync read-then-write as a whole: two syncs can
no longer interleave their files, nor can an older read be written after a newer one.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Protocol

from chalicelib.core.identity import mqtt_username
from infra.local.broker import Broker, DeviceCredential
from infra.local.broker_tls import TlsAccess

log = logging.getLogger(__name__)


class BrokerToken(Protocol):
    """A registry token as the broker needs it."""

    @property
    def tenant_id(self) -> str: ...

    @property
    def device_id(self) -> str: ...

    @property
    def mqtt_password_hash(self) -> str: ...

    @property
    def enabled(self) -> float: ...


class CredentialSource(Protocol):
    """The registry's side of the sync (the device repository)."""

    def credentials_epoch(self) -> int: ...

    def broker_credentials(self) -> Iterable[BrokerToken]: ...


class CredentialSync:
    """Copies registry credentials to the broker; `sync_once` is what tests call."""

    def __init__(self, repo: CredentialSource, broker: Broker, interval_s: float = 1.0,
                 tls: TlsAccess | None = None) -> None:
        self._repo = repo
        self._broker = broker
        self._tls = tls
        self._interval = interval_s
        self._epoch = -1
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sync_once(self, force: bool = False) -> bool:
        """Rewrite and reload when the registry changed; True when it did.

        The epoch is read before the credentials, so the files written are at least as new
        as the epoch recorded; an epoch older than the one already written is never acted
        on (force rewrites the same registry state again, it never steps back).
        """
        with self._lock:
            epoch = self._repo.credentials_epoch()
            if epoch < self._epoch or (epoch == self._epoch and not force):
                return False
            creds = [DeviceCredential(t.tenant_id, t.device_id, t.mqtt_password_hash)
                     for t in self._repo.broker_credentials() if t.enabled]
            self._broker.write_credentials(creds)
            cut = self._tls.write({mqtt_username(c.tenant_id, c.device_id) for c in creds}) if self._tls else []
            self._broker.reload(wait_s=5.0 if self._tls else 0.0)
            self._broker.cut(cut)  # after the reload: the CRL now refuses a reconnect
            self._epoch = epoch
            return True

    @property
    def epoch(self) -> int:
        """The registry epoch the broker's files were last written from (-1 before the first sync)."""
        return self._epoch

    def start(self) -> CredentialSync:
        self._thread = threading.Thread(target=self._run, name="credential-sync", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.sync_once()
            except Exception:  # the database may be restarting; try again next tick
                log.exception("credential sync failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)
