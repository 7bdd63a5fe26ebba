"""Scheduler metrics: the collector interface and the ``MetricsCollectors`` factory.

The scheduler calls the collector's hooks on status changes (see ``luigi.scheduler``); the
third-party collectors (datadog, prometheus) are imported only when selected.
"""

from __future__ import annotations

import abc
import importlib
from enum import Enum
from typing import Any


class MetricsCollectors(Enum):
    """Config values of ``[scheduler] metrics_collector`` (``none`` is an alias of ``default``)."""

    custom = -1
    default = 1
    none = 1
    datadog = 2
    prometheus = 3

    @classmethod
    def get(cls, which: MetricsCollectors, custom_import: str | None = None) -> MetricsCollector:
        """Build the collector selected by ``which``."""
        if which == MetricsCollectors.default:
            return NoMetricsCollector()
        if which == MetricsCollectors.datadog:
            from luigi.contrib.datadog_metric import DatadogMetricsCollector

            return DatadogMetricsCollector()
        if which == MetricsCollectors.prometheus:
            from luigi.contrib.prometheus_metric import PrometheusMetricsCollector

            return PrometheusMetricsCollector()
        if which == MetricsCollectors.custom:
            if custom_import is None:
                raise ValueError(f"MetricsCollectors value ' {which} ' is -1 and custom_import is None")
            module_name, _, class_name = custom_import.rpartition(".")
            collector_class = getattr(importlib.import_module(module_name), class_name)
            if isinstance(collector_class, type) and issubclass(collector_class, MetricsCollector):
                return collector_class()
            raise ValueError(f"Custom Import: {custom_import} is not a subclass of MetricsCollector")
        raise ValueError(f"MetricsCollectors value ' {which} ' isn't supported")


class MetricsCollector(metaclass=abc.ABCMeta):
    """Receives task events from the scheduler."""

    @abc.abstractmethod
    def __init__(self) -> None:
        pass

    @abc.abstractmethod
    def handle_task_started(self, task: Any) -> None:
        pass

    @abc.abstractmethod
    def handle_task_failed(self, task: Any) -> None:
        pass

    @abc.abstractmethod
    def handle_task_disabled(self, task: Any, config: Any) -> None:
        pass

    @abc.abstractmethod
    def handle_task_done(self, task: Any) -> None:
        pass

    def handle_task_statistics(self, task: Any, statistics: Any) -> None:
        """Optional: statistics reported by a running task."""
        return None

    def generate_latest(self) -> Any:
        """Body of the server's ``/metrics`` page, or None when the collector has none."""
        return None

    def configure_http_handler(self, http_handler: Any) -> None:
        """Optional: adjust the ``/metrics`` response (e.g. its content type)."""
        return None


class NoMetricsCollector(MetricsCollector):
    """The default collector: ignores every event."""

    def __init__(self) -> None:
        pass

    def handle_task_started(self, task: Any) -> None:
        pass

    def handle_task_failed(self, task: Any) -> None:
        pass

    def handle_task_disabled(self, task: Any, config: Any) -> None:
        pass

    def handle_task_done(self, task: Any) -> None:
        pass
