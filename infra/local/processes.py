"""Small helpers to run and stop the local stack's child processes.

No child may outlive the stack, however the stack ends: each child runs in its own
process group (a Ctrl-C in the terminal reaches only the stack, which stops them in
order), is stopped with its whole group, and on Linux asks the kernel to kill it when
the thread that started it dies (PR_SET_PDEATHSIG), so even a `kill -9` of the stack
leaves nothing listening on its ports.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

_LOWEST_PORT = 10000
_rng = random.SystemRandom()
# Ports this process handed out or was given to bind later (a stack's own ports, passed by the
# test or `make run`): a probe cannot see a port that is not bound yet, so without this a
# component started first (SeaweedFS's free ports) could take the broker's before it binds.
_taken: set[int] = set()
_taken_lock = threading.Lock()


def reserve_ports(ports: Iterable[int]) -> None:
    """Ports this process will bind later: free_port never answers one of them."""
    with _taken_lock:
        _taken.update(ports)


def ephemeral_ports() -> tuple[int, int]:
    """The kernel's range for outgoing connections' source ports (and for bind to port 0)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now, chosen outside the kernel's ephemeral range.

    A port from bind(0) comes from the range the kernel also hands to outgoing connections;
    between our probe and the child's bind, any client connecting somewhere (a database call,
    an MQTT login) may take it as its source port, and the child then dies with "address
    already in use". Ports below that range are only ever taken by listeners, and picking
    one at random keeps concurrent test runs apart.
    """
    low, _ = ephemeral_ports()
    with _taken_lock:
        if low - _LOWEST_PORT >= 1000:
            for _ in range(100):
                port = _rng.randrange(_LOWEST_PORT, low)
                if port in _taken:
                    continue
                with socket.socket() as s:
                    try:
                        s.bind((host, port))
                    except OSError:
                        continue
                _taken.add(port)
                return port
        for _ in range(100):  # a kernel with almost no room below its ephemeral range
            with socket.socket() as s:
                s.bind((host, 0))
                port = int(s.getsockname()[1])
            if port not in _taken:
                _taken.add(port)
                return port
        raise RuntimeError("no free port left that this process was not given already")


def wait_for_port(host: str, port: int, timeout: float = 20.0, proc: subprocess.Popen | None = None) -> None:
    """Block until something accepts connections on host:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True) if sys.platform == "linux" else None


def _die_with_parent() -> None:
    """Runs in the child between fork and exec: SIGKILL when the parent thread dies."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


@dataclass
class Child:
    """A child process with its log file; stopping is SIGTERM, then SIGKILL."""

    name: str
    args: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None

    def start(self) -> Child:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env}, start_new_session=True,
                preexec_fn=_die_with_parent if _libc is not None else None,
            )
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def returncode(self) -> int | None:
        return self.proc.poll() if self.proc is not None else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive() and self.proc is not None:
            self.proc.send_signal(sig)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait(5)
        else:
            self._signal_group(signal.SIGKILL)  # whatever it left behind in its group
        self.proc = None

    def _signal_group(self, sig: int) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)


def python_module(name: str, *args: str) -> list[str]:
    """argv to run one of our modules with this interpreter."""
    return [sys.executable, "-m", name, *args]


def log_tail(path: Path, lines: int = 15) -> str:
    """The last lines of a child's log, for an error that says why it stopped."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def exit_text(child: Child | None) -> str:
    """How a child ended, for an error: exited, with its status, or killed by which signal."""
    code = child.returncode if child is not None else None
    if code is None:
        return "exited"
    return f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"


def wait_listening(child: Child, port: int) -> None:
    """wait_for_port, and when the child exits instead, the end of its log in the error."""
    try:
        wait_for_port("127.0.0.1", port, proc=child.proc)
    except RuntimeError as exc:
        tail = child.log_path.read_text(errors="replace")[-1500:] if child.log_path.exists() else ""
        raise RuntimeError(f"{child.name} {exit_text(child)} before listening on {port}; its log ends:\n{tail}"
                           ) from exc
