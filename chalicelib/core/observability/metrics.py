"""Counters and timings as CloudWatch embedded metric format (EMF) lines on stdout.

One namespace; the only dimensions are the component (`service`) and, for a few
metrics, one low-cardinality label (a status, a reason, a schedule's name). Tenants,
devices and ids are log keys, never dimensions: a fleet of many tenants must not turn
into millions of metric series.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Final

from chalicelib.core.observability.log import SERVICE

if TYPE_CHECKING:
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

NAMESPACE: Final = "FleetControlPlane"


class MetricSink:
    """Collects one component's metrics and prints them as one EMF line per flush.

    Powertools' `Metrics` facade shares its metric set across instances; the provider
    underneath keeps its own, so the functions and the bridge (one process locally) stay
    apart. A lock makes it safe under the local API server's threads. Powertools is
    imported on the first metric, not with the module (see log.py).
    """

    def __init__(self, service: str, namespace: str = NAMESPACE) -> None:
        self.service = service
        self.namespace = namespace
        self._provider: AmazonCloudWatchEMFProvider | None = None
        self._counts: dict[str, float] = {}
        self._lock = threading.Lock()

    def count(self, name: str, value: float = 1) -> None:
        """Add to a counter; zero values are not sent.

        Summed here and sent as one value per flush: CloudWatch sums them anyway, and one value per
        call made the bridge print an EMF line every 100 messages (Powertools flushes at 100 values).
        """
        if value:
            with self._lock:
                self._counts[name] = self._counts.get(name, 0) + value

    def milliseconds(self, name: str, value: float) -> None:
        """Record one duration."""
        self._add(name, "Milliseconds", value)

    def count_by(self, name: str, dimension: str, label: str, value: float = 1) -> None:
        """A counter split by one low-cardinality label; printed at once as its own EMF line."""
        if value:
            self.gauge(name, dimension, label, value)

    def gauge(self, name: str, dimension: str, label: str, value: float) -> None:
        """A level (a backlog) split by one label, zero included: a drained backlog must show as 0."""
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=self.namespace,
                           default_dimensions={"service": self.service, dimension: label}):
            pass

    def flush(self) -> None:
        """Print what was collected (nothing when empty) and start over."""
        with self._lock:
            counts, self._counts = self._counts, {}
            for name, total in counts.items():
                self._add_locked(name, "Count", total)
            if self._provider is not None and self._provider.metric_set:
                self._provider.flush_metrics()

    def _add(self, name: str, unit: str, value: float) -> None:
        with self._lock:
            self._add_locked(name, unit, value)

    def _add_locked(self, name: str, unit: str, value: float) -> None:
        from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

        if self._provider is None:
            self._provider = AmazonCloudWatchEMFProvider(namespace=self.namespace, service=self.service)
        self._provider.add_metric(name=name, unit=unit, value=value)


metrics = MetricSink(SERVICE)
