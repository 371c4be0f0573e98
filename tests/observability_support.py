"""Reading what the code logged and measured: Powertools' own testing approach (capsys).

The JSON log lines and the EMF metric lines both go to stdout; `capture(capsys)` points
the loggers at pytest's captured stdout for the block and hands back the parsed records.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

import pytest
from aws_lambda_powertools.logging import Logger

from chalicelib.core.observability.log import logger as function_logger
from chalicelib.core.observability.log import send_to
from mqtt_bridge.telemetry import logger as bridge_logger


@dataclass
class Records:
    """Every JSON line printed so far: log records and EMF metric blobs, apart."""

    capsys: pytest.CaptureFixture[str]
    logs: list[dict[str, Any]] = field(default_factory=list)
    emf: list[dict[str, Any]] = field(default_factory=list)

    def read(self) -> Records:
        """Take in what was printed since the last read."""
        for line in self.capsys.readouterr().out.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                (self.emf if "_aws" in record else self.logs).append(record)
        return self

    def lines(self, message: str) -> list[dict[str, Any]]:
        """The log records with this message."""
        return [r for r in self.read().logs if r.get("message") == message]

    def metric(self, name: str, **dimensions: str) -> float:
        """The total of a metric over every EMF line, for lines with these dimension values."""
        total = 0.0
        for blob in self.read().emf:
            if name in blob and all(blob.get(k) == v for k, v in dimensions.items()):
                value = blob[name]
                total += sum(value) if isinstance(value, list) else value
        return total


@contextmanager
def capture(capsys: pytest.CaptureFixture[str]) -> Iterator[Records]:
    """Point the function and bridge loggers at the captured stdout for the block."""
    loggers: tuple[Logger, ...] = (function_logger, bridge_logger)
    before: list[tuple[Logger, IO[str]]] = [(lg, getattr(lg.registered_handler, "stream", sys.stdout))
                                            for lg in loggers]
    send_to(sys.stdout, *loggers)
    try:
        yield Records(capsys)
    finally:
        for lg, stream in before:
            send_to(stream, lg)
