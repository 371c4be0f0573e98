"""The bridge with a journal: every message it finished is appended to a file.

Tests and benchmarks run `python -m infra.local.bridge_journal` instead of
`python -m mqtt_bridge` to count what went through (distinct lines = distinct messages;
a redelivery after a crash shows up as a duplicate line, never as a missing one).
The journal path comes from BRIDGE_JOURNAL_PATH. With BRIDGE_JOURNAL_SINK=count the
function is not called: every message is accepted and journaled, which measures the bridge
and the broker alone (the benchmark's counting invoker).
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from mqtt_bridge.__main__ import run
from mqtt_bridge.config import BridgeSettings
from mqtt_bridge.invokers import BatchResult, Invoker


class JournalInvoker(Invoker):
    """Wraps an invoker and records each event after it returned, before the PUBACK."""

    def __init__(self, inner: Invoker, path: Path) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        # Line-buffered, so a SIGKILL loses at most the line being written.
        self._file = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives with the process

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        result = self._inner.invoke(event)
        self._record([(event, result.get("accepted"))])
        return result

    def invoke_batch(self, events: list[dict[str, Any]]) -> BatchResult:
        result = self._inner.invoke_batch(events)
        # Only what the function took: the failed ones come back in a later batch.
        self._record([(e, i not in result.rejected) for i, e in enumerate(events) if i not in result.failed])
        return result

    def _record(self, taken: list[tuple[dict[str, Any], object]]) -> None:
        now = time.time()
        lines = "".join(json.dumps({"topic": e.get("topic"), "payload_b64": e.get("payload_b64"), "accepted": ok,
                                    "t": now}) + "\n" for e, ok in taken)
        with self._lock:
            self._file.write(lines)


class AcceptingInvoker(Invoker):
    """Takes every message without running anything: what the bridge alone can move."""

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        if "Records" in event:
            return {"batchItemFailures": [], "rejected": []}
        return {"accepted": True}


def read_journal(path: Path) -> list[dict[str, Any]]:
    """Every complete line of a journal (a torn last line from a kill is skipped)."""
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue
    return entries


def main() -> None:
    path = Path(os.environ["BRIDGE_JOURNAL_PATH"])
    counting = os.environ.get("BRIDGE_JOURNAL_SINK") == "count"
    sys.exit(run(BridgeSettings(), wrap=lambda inner: JournalInvoker(AcceptingInvoker() if counting else inner, path)))


if __name__ == "__main__":
    main()
