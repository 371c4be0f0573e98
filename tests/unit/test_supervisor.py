"""The local stack's supervisor: dead units come back with growing backoff; held ones are left alone."""
from __future__ import annotations

import socket
import time
from collections.abc import Callable

from infra.local.supervisor import Supervisor


class FakeProcess:
    """A unit that is alive until killed; counts its starts and stops."""

    def __init__(self, fail_starts: int = 0) -> None:
        self.running = True
        self.starts = 0
        self.stops = 0
        self.fail_starts = fail_starts

    def start(self) -> None:
        if self.fail_starts:
            self.fail_starts -= 1
            raise RuntimeError("port busy")
        self.starts += 1
        self.running = True

    def stop(self) -> None:
        self.stops += 1
        self.running = False


def _wait(predicate: Callable[[], object], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


def test_a_dead_unit_is_restarted_and_counted() -> None:
    # Given a supervised unit
    restarted: list[tuple[str, int]] = []
    sup = Supervisor(first_backoff_s=0.05, poll_s=0.01, on_restart=lambda n, k: restarted.append((n, k)))
    proc = FakeProcess()
    sup.add("bridge", proc.start, lambda: proc.running, proc.stop)
    sup.start()
    try:
        # When it dies
        proc.running = False
        # Then it is started again, and the restart is reported
        assert _wait(lambda: proc.starts == 1)
        # (counted and reported just after the start: waited for, as the start was; a CI run read it in between)
        assert _wait(lambda: restarted == [("bridge", 1)])
        assert sup.restarts() == {"bridge": 1}
    finally:
        sup.stop()
    # And stopping the supervisor stops the unit
    assert not proc.running


def test_a_failing_restart_is_tried_again_with_backoff() -> None:
    sup = Supervisor(first_backoff_s=0.02, poll_s=0.01)
    proc = FakeProcess(fail_starts=2)
    sup.add("api", proc.start, lambda: proc.running, proc.stop)
    sup.start()
    try:
        proc.running = False
        assert _wait(lambda: proc.starts == 1)
        assert sup.restarts() == {"api": 1}
    finally:
        sup.stop()


def test_a_held_unit_is_not_restarted_until_released() -> None:
    sup = Supervisor(first_backoff_s=0.01, poll_s=0.01)
    proc = FakeProcess()
    sup.add("bridge", proc.start, lambda: proc.running, proc.stop)
    sup.start()
    try:
        with sup.holding("bridge"):
            proc.running = False
            time.sleep(0.2)
            assert proc.starts == 0
            proc.start()  # the tool that held it starts it again itself
        time.sleep(0.1)
        assert sup.restarts() == {"bridge": 0}
    finally:
        sup.stop()


def test_a_free_port_is_below_the_kernels_ephemeral_range_and_bindable() -> None:
    # A port the kernel could hand to an outgoing connection's source may be taken before the child binds it
    from infra.local.processes import ephemeral_ports, free_port

    low, _ = ephemeral_ports()
    ports = {free_port() for _ in range(50)}
    assert all(1024 <= p < low for p in ports), sorted(ports)
    assert len(ports) > 40  # random, so concurrent runs do not walk the same sequence
    for port in list(ports)[:5]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_a_free_port_is_never_one_handed_out_or_reserved_before() -> None:
    # A stack's ports are bound one component after another; SeaweedFS's free ports, picked in between,
    # once took a port the broker was given and had not bound yet ("address already in use" in CI)
    from infra.local.processes import _taken, ephemeral_ports, free_port, reserve_ports

    handed = [free_port() for _ in range(200)]
    assert len(set(handed)) == len(handed)
    reserved = set(range(10000, ephemeral_ports()[0])) - set(handed)  # every port it picks from
    reserve_ports(reserved)
    try:
        assert free_port() not in reserved
    finally:
        _taken.difference_update(reserved)
