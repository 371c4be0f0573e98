"""`make logs`: follow every log of the local stack, one readable line per JSON record.

    python -m infra.local.logs                  # follow .devstack/logs/*.log (STACK_DIR to change)
    python -m infra.local.logs --grep 01hx...   # only lines mentioning a command id, a correlation id...
    python -m infra.local.logs --no-follow      # print what is there and stop

Our processes write JSON lines (Powertools Logger) and EMF metric lines; the broker and the
database write text, shown as it is.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from infra.local.stack_options import ROOT

# Shown in this order after the message; the rest follow alphabetically.
FIRST_KEYS = ("outcome", "tenant", "device", "command_id", "job_id", "site_id", "schedule")
HIDDEN_KEYS = {"level", "message", "timestamp", "service", "location", "correlation_id", "sampling_rate"}
# Values come from devices and callers: a newline would forge a line, an escape would drive the terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _visible(text: str) -> str:
    """The text with every control character shown as an escape (\\n, \\x1b), never acted on."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


def render(source: str, line: str) -> str:
    """One log line for people: time, level, source, message, keys; EMF lines as metric=value."""
    return _visible(_render(source, line))


def _render(source: str, line: str) -> str:
    try:
        record = json.loads(line)
    except ValueError:
        return f"{source:<10} {line}"
    if not isinstance(record, dict):
        return f"{source:<10} {line}"
    if "_aws" in record:
        return f"{source:<10} metrics {_metrics(record)}"
    when = str(record.get("timestamp", ""))[11:23]
    cid = str(record.get("correlation_id") or "")[:12]
    keys = [k for k in FIRST_KEYS if k in record] + sorted(k for k in record if k not in HIDDEN_KEYS
                                                              and k not in FIRST_KEYS)
    pairs = " ".join(f"{k}={_short(record[k])}" for k in keys)
    text = f"{when} {record.get('level', '')!s:<7} {source:<10} [{cid:<12}] {record.get('message', '')}"
    return f"{text}  {pairs}" if pairs else text


def _metrics(record: dict[str, Any]) -> str:
    names = [m["Name"] for d in record["_aws"].get("CloudWatchMetrics", []) for m in d.get("Metrics", [])]
    dims = [d for group in record["_aws"].get("CloudWatchMetrics", []) for dset in group.get("Dimensions", [])
            for d in dset if d != "service"]
    labels = " ".join(f"{d}={record.get(d)}" for d in dict.fromkeys(dims))
    values = " ".join(f"{n}={_total(record.get(n))}" for n in names)
    return f"{labels} {values}".strip()


def _total(value: Any) -> Any:
    return round(sum(value), 1) if isinstance(value, list) else value


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= 200 else text[:197] + "..."


def follow(directory: Path, once: bool) -> Iterator[tuple[str, str]]:
    """(source, line) from every *.log of the directory, new lines as they come; new files are picked up."""
    handles: dict[Path, TextIO] = {}
    while True:
        for path in sorted(directory.glob("*.log")):
            if path not in handles:
                handles[path] = path.open(errors="replace")
        got = False
        for path, handle in handles.items():
            for line in handle:
                got = True
                yield path.stem, line.rstrip("\n")
        if once:
            return
        if not got:
            time.sleep(0.3)


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grep", default="", help="only lines containing this text")
    parser.add_argument("--no-follow", action="store_true", help="print what is there and stop")
    args = parser.parse_args(argv)
    logs = Path(os.environ.get("STACK_DIR", ROOT / ".devstack")) / "logs"
    if not logs.is_dir():
        print(f"no logs yet in {logs}: start the stack with `make run`", file=sys.stderr)
        return 1
    try:
        for source, line in follow(logs, args.no_follow):
            if args.grep in line:
                print(render(source, line), file=out, flush=True)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
