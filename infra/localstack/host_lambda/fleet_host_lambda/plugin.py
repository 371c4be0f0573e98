"""The plugin LocalStack discovers under `localstack.lambda.runtime_executor` (LAMBDA_RUNTIME_EXECUTOR=host)."""
from __future__ import annotations

from typing import Any

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class HostRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    """Loads HostRuntimeExecutor only when LocalStack asks for it."""

    name = "host"

    def load(self, *args: Any, **kwargs: Any) -> Any:
        from fleet_host_lambda.executor import HostRuntimeExecutor

        return HostRuntimeExecutor
