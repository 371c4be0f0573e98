"""The host Lambda runtime (infra/localstack/host_lambda) speaking LocalStack's callback protocol, without LocalStack.

A small HTTP server stands in for LocalStack's `/_localstack_lambda/<id>` endpoint and
records what the runtime posts; the runtime runs as LocalStack's executor starts it.
"""
from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from infra.local.processes import free_port, wait_for_port

RUNTIME = Path(__file__).resolve().parents[2] / "infra/localstack/host_lambda/fleet_host_lambda/runtime.py"
HANDLER = '''
import logging, os, sys, time
# Like Powertools: a logger that keeps the stream it found at import.
log = logging.getLogger("fn")
log.addHandler(logging.StreamHandler(sys.stdout))
log.setLevel(logging.INFO)
def handler(event, context):
    log.info("logged through the import-time stream")
    if event.get("fail"):
        raise ValueError("asked to fail")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    print("hello from", context.function_name)
    return {"echo": event, "request_id": context.aws_request_id, "region": os.environ["AWS_REGION"]}
'''


class Callbacks:
    """LocalStack's side: every POST the runtime makes, as (path, body)."""

    def __init__(self) -> None:
        self.posts: queue.Queue[tuple[str, Any]] = queue.Queue()
        calls = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                calls.put((self.path, json.loads(body) if body else None))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/_localstack_lambda/env1"

    def next(self) -> tuple[str, Any]:
        return self.posts.get(timeout=20)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[tuple[Callbacks, int]]:
    (tmp_path / "fn.py").write_text(HANDLER)
    callbacks = Callbacks()
    port = free_port()
    env = {"LAMBDA_TASK_ROOT": str(tmp_path), "HOST_LAMBDA_PORT": str(port), "_HANDLER": "fn.handler",
           "HOST_LAMBDA_RUNTIME": f"python{sys.version_info.major}.{sys.version_info.minor}",
           "LOCALSTACK_RUNTIME_ENDPOINT": callbacks.endpoint, "LOCALSTACK_RUNTIME_ID": "env1",
           "AWS_LAMBDA_FUNCTION_NAME": "fn", "AWS_REGION": "us-east-1", "AWS_LAMBDA_FUNCTION_TIMEOUT": "1"}
    proc = subprocess.Popen([sys.executable, "-s", "-E", str(RUNTIME)], cwd=tmp_path, env=env)
    try:
        yield callbacks, port
    finally:
        proc.kill()
        proc.wait(5)
        callbacks.server.shutdown()


def _invoke(port: int, request_id: str, event: dict[str, Any]) -> None:
    wait_for_port("127.0.0.1", port)
    body = json.dumps({"invoke-id": request_id, "invoked-function-arn": "arn:fn", "payload": json.dumps(event),
                       "trace-id": "Root=1"}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/invoke", data=body)) as answer:
        assert answer.status == 202


def test_ready_then_each_invocation_posts_its_logs_and_its_result(runtime: tuple[Callbacks, int]) -> None:
    callbacks, port = runtime
    assert callbacks.next() == ("/_localstack_lambda/env1/status/env1/ready", {})
    _invoke(port, "r1", {"n": 1})
    path, logs = callbacks.next()
    assert path == "/_localstack_lambda/env1/invocations/r1/logs" and "hello from fn" in logs["logs"]
    assert "logged through the import-time stream" in logs["logs"]
    assert callbacks.next() == ("/_localstack_lambda/env1/invocations/r1/response",
                                {"echo": {"n": 1}, "request_id": "r1", "region": "us-east-1"})
    _invoke(port, "r2", {"fail": True})
    assert callbacks.next()[0].endswith("/invocations/r2/logs")
    path, error = callbacks.next()
    assert path.endswith("/invocations/r2/error")
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "asked to fail")


def test_an_invocation_past_the_timeout_is_an_error_and_the_next_one_runs(runtime: tuple[Callbacks, int]) -> None:
    callbacks, port = runtime
    callbacks.next()  # ready
    _invoke(port, "slow", {"sleep": 5})
    callbacks.next()  # logs
    path, error = callbacks.next()
    assert path.endswith("/invocations/slow/error") and error["errorType"] == "TaskTimedOut"
    _invoke(port, "quick", {"n": 2})
    callbacks.next()
    assert callbacks.next()[0].endswith("/invocations/quick/response")
