"""Structured JSON logs (Powertools Logger) and the correlation id of the work in hand.

Every line carries `correlation_id`: the API request's (its `X-Correlation-Id` header, or
the gateway's request id), the MQTT message's (what the bridge read from it), or one minted
for a scheduled run. Commands carry it to the device as MQTT 5 correlation data, so a
device that echoes it puts its ACK in the same trace.
"""
from __future__ import annotations

import io
import logging
import os
import re
import sys
import threading
import uuid
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from aws_lambda_powertools.logging import Logger

# Not the Chalice app's name: Chalice keeps a logger of that name at ERROR for its own use.
SERVICE = "fleet-functions"
CORRELATION_HEADER = "X-Correlation-Id"
# What a caller may choose as correlation id: short, printable, no separators a log query trips on.
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def log_level() -> str:
    """FLEET_LOG_LEVEL, else Powertools' own POWERTOOLS_LOG_LEVEL or LOG_LEVEL, else INFO."""
    for name in ("FLEET_LOG_LEVEL", "POWERTOOLS_LOG_LEVEL", "LOG_LEVEL"):
        value = os.getenv(name, "").strip().upper()
        if value in logging.getLevelNamesMapping():
            return value
    return "INFO"


class _CurrentStdout(io.TextIOBase):
    """sys.stdout as it is when a line is written (a redirect, a test's capture), not as it was at start-up."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def make_logger(service: str, stream: IO[str] | None = None) -> Logger:
    """A JSON logger of one component (the functions, the bridge); stdout by default, like the EMF lines."""
    from aws_lambda_powertools.logging import Logger

    return Logger(service=service, level=log_level(), stream=stream or cast(IO[str], _CurrentStdout()),
                  use_rfc3339=True, utc=True)


class _OnFirstUse:
    """Stands for the Powertools Logger and builds it on first use.

    Every function imports this module; Powertools (and botocore, which its package
    loads) is then paid by the first line logged, not by importing the app.
    """

    def __init__(self, build: Callable[[], Logger]) -> None:
        self._build = build
        self._built: Logger | None = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = self._build()
        return getattr(self._built, name)


logger = cast("Logger", _OnFirstUse(lambda: make_logger(SERVICE)))


def clean_correlation_id(value: object) -> str | None:
    """The value when it is usable as a correlation id, else None (never trust it further)."""
    # fullmatch: `$` would let a trailing newline through.
    return value if isinstance(value, str) and _VALID_ID.fullmatch(value) else None


def new_correlation_id() -> str:
    """A fresh correlation id."""
    return uuid.uuid4().hex


def begin(correlation_id: object = None, **keys: object) -> str:
    """Start a unit of work on this thread: its correlation id (given or minted) and keys on every line."""
    cid = clean_correlation_id(correlation_id) or new_correlation_id()
    logger.thread_safe_clear_keys()
    logger.thread_safe_append_keys(correlation_id=cid, **keys)
    return cid


def end() -> None:
    """Forget this thread's correlation id and keys (the work is over)."""
    logger.thread_safe_clear_keys()


def current_correlation_id() -> str | None:
    """The correlation id of the work on this thread, if one was begun."""
    value = logger.thread_safe_get_current_keys().get("correlation_id")
    return value if isinstance(value, str) else None


def send_to(stream: IO[str], *loggers: Logger) -> None:
    """Point loggers at another stream (tests capture the JSON lines this way)."""
    for each in loggers or (logger,):
        handler = each.registered_handler
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)


def configure_process(*loggers: Logger) -> None:
    """For a long-running process: every line JSON on stdout, our lines once.

    Third-party libraries log through the root logger; it gets the same JSON formatter at
    WARNING, and our loggers stop propagating so their lines are not printed twice.
    """
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(LambdaPowertoolsFormatter(use_rfc3339=True, utc=True))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    for each in loggers or (logger,):
        logging.getLogger(each.service).propagate = False
