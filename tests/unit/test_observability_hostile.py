"""Hostile input to the logs: forged lines, terminal escapes, ids that only look clean."""
from __future__ import annotations

import json

from chalicelib.core.observability.log import clean_correlation_id
from infra.local.logs import render
from mqtt_bridge.telemetry import message_keys


def test_a_correlation_id_with_a_trailing_newline_is_refused() -> None:
    # `$` in a regex also matches before a final newline: "abc\n" must not pass as clean
    assert clean_correlation_id("abc\n") is None
    assert clean_correlation_id("trace-1\n") is None
    echoed = message_keys("tenant/a/device/d/commands/ack", b'{"correlation_id": "trace-1\\n"}')
    assert "\n" not in echoed["correlation_id"]


def test_make_logs_cannot_be_forged_or_recoloured_by_a_logged_value() -> None:
    # Given a JSON line whose device-chosen values hold a newline, an ANSI escape and a fake line
    forged = "x\n12:00:00.000 ERROR   api        [000000000000] operator token refused"
    line = json.dumps({"timestamp": "2026-01-01T12:00:00.000+00:00", "level": "INFO", "message": "m\x1b[2J",
                       "command_id": forged, "topic": "t/\x1b]0;pwn\x07", "correlation_id": "c\r\n"})
    # When it is rendered for a terminal
    text = render("bridge", line)
    # Then it is one line, with no control character left raw
    assert "\n" not in text and "\r" not in text
    assert "\x1b" not in text and "\x07" not in text
    assert "\\n12:00:00.000 ERROR" in text
    # And a non-JSON line (the broker's, the database's) is made safe too
    raw = render("mosquitto", "client \x1b[31mred\x1b[0m connected")
    assert "\x1b" not in raw and "red" in raw
