"""Prometheus metrics for the central scheduler (``[scheduler] metrics_collector = prometheus``).

``GET /metrics`` on luigid returns the text exposition format of this collector's own registry:
counters ``luigi_task_started_total``, ``luigi_task_failed_total``, ``luigi_task_disabled_total``,
``luigi_task_done_total`` and the gauge ``luigi_task_execution_time_seconds``, labelled by task
family and the parameters listed in ``[prometheus] task_parameters_to_use_in_labels``.

Unlike Luigi, a FAILED/DISABLED task that never ran (``time_running`` is None) is counted without
setting the execution-time gauge instead of raising.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest

from luigi.metrics import MetricsCollector
from luigi.parameter import BoolParameter, ListParameter
from luigi.task import Config


class prometheus(Config):
    use_task_family_in_labels = BoolParameter(default=True, parsing=BoolParameter.EXPLICIT_PARSING)
    task_parameters_to_use_in_labels = ListParameter(default=[])


class PrometheusMetricsCollector(MetricsCollector):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.registry = CollectorRegistry()
        config = prometheus(**kwargs)
        self.labels = list(config.task_parameters_to_use_in_labels)
        if config.use_task_family_in_labels:
            self.labels += ["family"]
        if not self.labels:
            raise ValueError("Prometheus labels cannot be empty (see prometheus configuration)")
        self.task_started_counter = Counter(
            "luigi_task_started_total", "number of started luigi tasks", self.labels, registry=self.registry
        )
        self.task_failed_counter = Counter(
            "luigi_task_failed_total", "number of failed luigi tasks", self.labels, registry=self.registry
        )
        self.task_disabled_counter = Counter(
            "luigi_task_disabled_total", "number of disabled luigi tasks", self.labels, registry=self.registry
        )
        self.task_done_counter = Counter(
            "luigi_task_done_total", "number of done luigi tasks", self.labels, registry=self.registry
        )
        self.task_execution_time = Gauge(
            "luigi_task_execution_time_seconds", "luigi task execution time in seconds", self.labels,
            registry=self.registry,
        )

    def generate_latest(self) -> bytes:
        return generate_latest(self.registry)

    def handle_task_started(self, task: Any) -> None:
        labels = self._generate_task_labels(task)
        self.task_started_counter.labels(**labels).inc()
        self.task_execution_time.labels(**labels)

    def _observe_end(self, counter: Counter, task: Any) -> None:
        labels = self._generate_task_labels(task)
        counter.labels(**labels).inc()
        if task.time_running is not None:
            self.task_execution_time.labels(**labels).set(task.updated - task.time_running)

    def handle_task_failed(self, task: Any) -> None:
        self._observe_end(self.task_failed_counter, task)

    def handle_task_disabled(self, task: Any, config: Any) -> None:
        self._observe_end(self.task_disabled_counter, task)

    def handle_task_done(self, task: Any) -> None:
        self._observe_end(self.task_done_counter, task)

    def configure_http_handler(self, http_handler: Any) -> None:
        http_handler.set_header("Content-Type", CONTENT_TYPE_LATEST)

    def _generate_task_labels(self, task: Any) -> dict[str, Any]:
        return {label: task.family if label == "family" else task.params.get(label) for label in self.labels}
