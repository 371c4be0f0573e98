"""The process of one execution environment: LocalStack's runtime callback protocol, standard library only.

Started by HostRuntimeExecutor with the function's code as working directory. It imports
the handler, reports `status/<id>/ready` (or `status/<id>/error`), then serves
`POST /invoke` on HOST_LAMBDA_PORT: each invocation is acknowledged, run, and its result
posted to `invocations/<request id>/response` (or `/error`), after its output to `/logs`.
"""
from __future__ import annotations

import importlib
import io
import json
import os
import signal
import sys
import time
import traceback
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any


class Context:
    """The Lambda context object handlers receive (the attributes Chalice and Powertools read)."""

    def __init__(self, request_id: str, arn: str, timeout_s: float) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def post(path: str, body: bytes) -> None:
    """POST to LocalStack's runtime endpoint of this environment."""
    url = os.environ["LOCALSTACK_RUNTIME_ENDPOINT"] + path
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()


def error_body(exc: BaseException) -> bytes:
    """An error in the shape AWS's runtimes report it."""
    return json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__,
                       "stackTrace": traceback.format_exception(exc)}).encode()


class Capture(io.TextIOBase):
    """The process's stdout and stderr: an invocation's output goes to its CloudWatch log and the process log.

    Installed before the handler's module loads, so loggers that keep the stream they found
    at import (Powertools, logging's handlers) write here too.
    """

    def __init__(self, target: Any) -> None:
        self.target = target
        self.current: io.StringIO | None = None

    def write(self, text: str) -> int:
        if self.current is not None:
            self.current.write(text)
        self.target.write(text)
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def begin(self) -> None:
        self.current = io.StringIO()

    def end(self) -> str:
        text = self.current.getvalue() if self.current is not None else ""
        self.current = None
        return text


CAPTURE = Capture(sys.stdout)


def load_handler() -> Any:
    wanted = os.environ.get("HOST_LAMBDA_RUNTIME", "")
    have = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if wanted and wanted != have:
        raise RuntimeError(f"the function's runtime is {wanted} but the host interpreter is {have}")
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    module, _, name = os.environ["_HANDLER"].rpartition(".")
    return getattr(importlib.import_module(module), name)


def make_server(handler: Any) -> HTTPServer:
    timeout_s = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "60"))

    class Invocations(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != "/invoke":
                self.send_error(404)
                return
            invocation = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            # Acknowledged first: LocalStack waits for this answer before it waits for the result.
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.wfile.flush()
            run(handler, invocation, timeout_s)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the invocations' own output is the log

    return HTTPServer(("127.0.0.1", int(os.environ["HOST_LAMBDA_PORT"])), Invocations)


def run(handler: Any, invocation: dict[str, Any], timeout_s: float) -> None:
    request_id = invocation["invoke-id"]
    context = Context(request_id, invocation.get("invoked-function-arn", ""), timeout_s)
    failure: BaseException | None = None
    result: Any = None
    CAPTURE.begin()
    # The function's timeout, as Lambda enforces it (invocations run on the main thread).
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        result = handler(json.loads(invocation["payload"] or "null"), context)
    except Exception as exc:
        failure = exc
        traceback.print_exc()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        CAPTURE.flush()
    post(f"/invocations/{request_id}/logs", json.dumps({"logs": CAPTURE.end()}).encode())
    if failure is not None:
        post(f"/invocations/{request_id}/error", error_body(failure))
    else:
        post(f"/invocations/{request_id}/response", json.dumps(result).encode())


class TaskTimedOut(Exception):
    """The invocation ran past the function's timeout."""


def _timed_out(signum: int, frame: Any) -> None:
    raise TaskTimedOut(f"Task timed out after {os.environ.get('AWS_LAMBDA_FUNCTION_TIMEOUT', '?')} seconds")


def main() -> None:
    runtime_id = os.environ["LOCALSTACK_RUNTIME_ID"]
    signal.signal(signal.SIGALRM, _timed_out)
    sys.stdout = sys.stderr = CAPTURE
    try:
        handler = load_handler()
        server = make_server(handler)
    except Exception as exc:
        traceback.print_exc()
        post(f"/status/{runtime_id}/error", error_body(exc))
        sys.exit(1)
    post(f"/status/{runtime_id}/ready", b"{}")
    server.serve_forever()


if __name__ == "__main__":
    main()
