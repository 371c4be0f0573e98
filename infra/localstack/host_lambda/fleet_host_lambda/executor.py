"""A LocalStack RuntimeExecutor that starts each execution environment as a host process.

LocalStack Community runs Lambda functions only in Docker containers. This executor keeps
everything else of LocalStack's Lambda service (versions, the invoke API, event source
and schedule invocations, CloudWatch logs) and replaces only the container: the function's
unzipped code runs under a host Python of the function's runtime (`runtime.py` here), which
speaks LocalStack's runtime callback protocol (`/_localstack_lambda/<id>/status/<id>/ready`,
`.../invocations/<request id>/response|error|logs`) like LocalStack's own init does.
"""
from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException, RuntimeExecutor
from localstack.utils.net import get_free_tcp_port

LOG = logging.getLogger(__name__)
RUNTIME = Path(__file__).resolve().with_name("runtime.py")
# The interpreter functions run under; it must be the version of their runtime (python3.11 -> 3.11).
PYTHON_VARIABLE = "HOST_LAMBDA_PYTHON"
# Variables of LocalStack's own process a function may see; everything else comes from LocalStack's
# per-environment variables (credentials, endpoint, handler) and the function's configuration.
INHERITED = ("PATH", "LANG", "LC_ALL", "HOME", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
HOST = "127.0.0.1"
_UNZIP_LOCK = threading.Lock()


def code_dir(code: Any) -> Path:
    """The unzipped code, one folder per zip content shared by every function built from it.

    A Chalice package gives all its functions one zip; unzipping it once instead of once per
    function (LocalStack's way) is most of a deployment's time on a small machine.
    """
    sha = getattr(code, "code_sha256", "")
    download = getattr(code, "_download_archive_to_file", None)
    if not sha or download is None:  # another kind of code (hot reloading): LocalStack's own unzip
        code.prepare_for_execution()
        return Path(code.get_unzipped_code_location())
    target = Path(config.dirs.tmp) / "host-lambda-code" / hashlib.sha256(sha.encode()).hexdigest()[:32]
    with _UNZIP_LOCK:
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=target.parent) as tmp, \
                    tempfile.NamedTemporaryFile(dir=target.parent) as archive:
                download(archive)
                with zipfile.ZipFile(archive.name) as unzipped:
                    unzipped.extractall(Path(tmp) / "code")
                (Path(tmp) / "code").rename(target)  # whole or not at all
    return target


class HostRuntimeExecutor(RuntimeExecutor):
    """One execution environment: a host process listening on a free loopback port."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.executor_endpoint = ExecutorEndpoint(self.id, container_address=HOST)
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = Path(config.dirs.logs) / "lambda" / f"{function_version.id.function_name}-{id}.log"

    def start(self, env_vars: dict[str, str]) -> None:
        python = os.environ.get(PYTHON_VARIABLE)
        if not python:
            raise LambdaRuntimeException(f"{PYTHON_VARIABLE} is not set: no interpreter to run functions with")
        port = get_free_tcp_port()
        self.executor_endpoint.container_port = port
        self.executor_endpoint.start()
        code = str(code_dir(self.function_version.config.code))
        env = {k: os.environ[k] for k in INHERITED if k in os.environ}
        env |= {k: str(v) for k, v in env_vars.items()}
        env |= {"LAMBDA_TASK_ROOT": code, "HOST_LAMBDA_PORT": str(port),
                "HOST_LAMBDA_RUNTIME": str(self.function_version.config.runtime or "")}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            # -s -E: nothing of the host's user site or PYTHON* variables; the zip's packages come first.
            self.process = subprocess.Popen([python, "-s", "-E", str(RUNTIME)], cwd=code, env=env,
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        LOG.debug("started %s for %s (pid %s, port %s)", self.id, self.function_version.id.function_name,
                  self.process.pid, port)
        self.executor_endpoint.wait_for_startup()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        try:
            self.executor_endpoint.shutdown()
        except Exception as exc:  # already unregistered: nothing left to do
            LOG.debug("executor endpoint of %s: %s", self.id, exc)

    def get_address(self) -> str:
        return HOST

    def get_endpoint_from_executor(self) -> str:
        return HOST

    def get_runtime_endpoint(self) -> str:
        port = config.GATEWAY_LISTEN[0].port
        return f"http://{HOST}:{port}{self.executor_endpoint.get_endpoint_prefix()}"

    def invoke(self, payload: dict[str, Any]) -> InvocationResult:
        return self.executor_endpoint.invoke(payload)

    def get_logs(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        if function_version.config.code:
            code_dir(function_version.config.code)

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        if not os.environ.get(PYTHON_VARIABLE):
            LOG.warning("%s is not set: Lambda functions cannot start", PYTHON_VARIABLE)
            return False
        return True
