"""The credential sync writes the broker's files from one registry read at a time, never an older one."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from chalicelib.core.auth.tokens import mosquitto_password_hash
from infra.local.broker import Broker, DeviceCredential, service_users
from infra.local.credential_sync import BrokerToken, CredentialSync

HASH = mosquitto_password_hash("secret", salt=b"0123456789ab")


@dataclass
class Token:
    tenant_id: str
    device_id: str
    mqtt_password_hash: str = HASH
    enabled: int = 1


class Registry:
    """A typed fake of the registry port: an epoch and the credentials written with it."""

    def __init__(self) -> None:
        self.epoch = 0
        self.devices: list[Token] = []
        self.epoch_reads: list[int] = []  # what the next epoch reads answer, before the real epoch

    def credentials_epoch(self) -> int:
        return self.epoch_reads.pop(0) if self.epoch_reads else self.epoch

    def broker_credentials(self) -> Iterable[BrokerToken]:
        return list(self.devices)


def _broker(tmp_path: Path) -> Broker:
    return Broker(tmp_path, port=1, service_users=list(service_users().values()), service_port=2)


def _names(tmp_path: Path) -> list[str]:
    return [line.split(":", 1)[0] for line in (tmp_path / "passwd").read_text().splitlines() if line]


def test_an_epoch_read_older_than_the_one_written_never_rewrites_the_files(tmp_path: Path) -> None:
    # Given files written from epoch 5 with two devices
    registry = Registry()
    registry.epoch, registry.devices = 5, [Token("t", "a"), Token("t", "b")]
    sync = CredentialSync(registry, _broker(tmp_path))
    assert sync.sync_once()
    # When a later read answers an older epoch (with the older, shorter credential list)
    registry.epoch_reads = [3]
    registry.devices = [Token("t", "a")]
    # Then nothing is written, even forced, and the epoch written stays 5
    assert not sync.sync_once(force=True)
    assert _names(tmp_path) == ["t.a", "t.b"]
    assert sync.epoch == 5


def test_a_forced_sync_rewrites_the_same_epoch(tmp_path: Path) -> None:
    registry = Registry()
    registry.epoch, registry.devices = 2, [Token("t", "a")]
    sync = CredentialSync(registry, _broker(tmp_path))
    assert sync.sync_once()
    assert not sync.sync_once()
    (tmp_path / "passwd").write_text("")
    assert sync.sync_once(force=True)
    assert _names(tmp_path) == ["t.a"]


def test_concurrent_syncs_of_a_changing_registry_never_fail_and_end_on_the_newest(tmp_path: Path) -> None:
    # Given sixteen threads syncing while the registry grows and moves its epoch
    registry = Registry()
    sync = CredentialSync(registry, _broker(tmp_path))
    errors: list[BaseException] = []
    done = threading.Event()

    def loop() -> None:
        while not done.is_set():
            try:
                sync.sync_once(force=True)
            except BaseException as e:
                errors.append(e)
                return

    threads = [threading.Thread(target=loop) for _ in range(16)]
    for t in threads:
        t.start()
    try:
        for i in range(60):
            registry.devices = [*registry.devices, Token("t", f"d{i}")]
            registry.epoch += 1
            time.sleep(0.002)
    finally:
        done.set()
        for t in threads:
            t.join(10)
    # Then no writer tripped over another, and a last sync writes the whole newest list
    assert errors == []
    sync.sync_once()
    assert sorted(_names(tmp_path)) == sorted(f"t.d{i}" for i in range(60))
    assert sync.epoch == 60
    assert list(tmp_path.glob(".*.tmp")) == []


def test_the_broker_writers_never_share_a_temporary_file(tmp_path: Path) -> None:
    # Given one broker written from many threads at once (the crash a fresh clone hit at start)
    broker = _broker(tmp_path)
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            for _ in range(30):
                broker.write_credentials([DeviceCredential("t", f"d{i}", HASH)])
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # Then every write succeeded, the files are a matching pair, private, with nothing left over
    assert errors == []
    (name,) = _names(tmp_path)
    assert (tmp_path / "acl").read_text().startswith(f"user {name}\n")
    assert (tmp_path / "passwd").stat().st_mode & 0o777 == 0o600
    assert list(tmp_path.glob(".*.tmp")) == []
