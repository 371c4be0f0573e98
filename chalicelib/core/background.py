"""Starting scheduled work now instead of at the next minute: a thread here, or an asynchronous invoke."""
from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

from chalicelib.core.clock import utcnow
from chalicelib.core.observability.log import logger


class ThreadKick:
    """Runs `work` in a daemon thread of this long-lived process (the local stack's API server, tests).

    Kicks coalesce: while a run is under way, any number of kicks queue exactly one more run,
    so work made due during a run (after it looked) is not left for the next minute.
    """

    def __init__(self, work: Callable[[], object], name: str) -> None:
        self._work = work
        self._name = name
        self._lock = threading.Lock()
        self._running = False
        self._again = False

    @property
    def running(self) -> bool:
        """Whether a run is under way or queued."""
        with self._lock:
            return self._running

    def __call__(self) -> None:
        with self._lock:
            if self._running:
                self._again = True
                return
            self._running = True
        threading.Thread(target=self._loop, name=self._name, daemon=True).start()

    def _loop(self) -> None:
        while True:
            try:
                self._work()
            except Exception:  # the schedule retries whatever this run left
                logger.exception("background run failed", run=self._name, outcome="failed")
            with self._lock:
                if not self._again:
                    self._running = False
                    return
                self._again = False


class LambdaKick:
    """Invokes a scheduled function asynchronously with an event shaped as EventBridge's, timed now."""

    def __init__(self, function_name: str, region: str, client: Any = None) -> None:
        self._function_name = function_name
        self._region = region
        self._client = client

    def __call__(self) -> None:
        if self._client is None:
            import boto3

            self._client = boto3.client("lambda", region_name=self._region)
        # `time` to the microsecond: what was made due a moment ago is due at this event's time.
        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                 "source": "fleet.kick", "account": "", "time": utcnow().isoformat(), "region": "",
                 "resources": [], "detail": {}}
        self._client.invoke(FunctionName=self._function_name, InvocationType="Event",
                            Payload=json.dumps(event).encode())
