"""PrometheusMetricsCollector: labels from config, counters, the execution-time gauge."""

from __future__ import annotations

import pytest

from luigi import configuration
from luigi.contrib.prometheus_metric import PrometheusMetricsCollector


def test_labels_from_parameters_and_family():
    configuration.get_config().set("prometheus", "task_parameters_to_use_in_labels", '["env"]')
    collector = PrometheusMetricsCollector()
    assert collector.labels == ["env", "family"]
    from luigi.scheduler import Scheduler

    sch = Scheduler()
    sch._state._metrics_collector = collector
    sch.add_task(worker="W", task_id="A", family="Load", params={"env": "prod"})
    assert sch.get_work(worker="W")["task_id"] == "A"
    sch.add_task(worker="W", task_id="A", status="FAILED", expl='"x"')
    sch.add_task(worker="W", task_id="B", family="Load", params={"env": "dev"}, status="FAILED", expl='"y"')
    text = collector.generate_latest().decode()
    assert 'luigi_task_started_total{env="prod",family="Load"} 1.0' in text
    assert 'luigi_task_failed_total{env="prod",family="Load"} 1.0' in text
    # B failed without ever running (time_running is None): counted, no gauge value, no crash
    assert 'luigi_task_failed_total{env="dev",family="Load"} 1.0' in text
    assert 'luigi_task_execution_time_seconds{env="prod",family="Load"}' in text
    assert 'luigi_task_execution_time_seconds{env="dev",family="Load"}' not in text


def test_empty_labels_are_refused():
    configuration.get_config().set("prometheus", "use_task_family_in_labels", "false")
    with pytest.raises(ValueError, match="Prometheus labels cannot be empty"):
        PrometheusMetricsCollector()
