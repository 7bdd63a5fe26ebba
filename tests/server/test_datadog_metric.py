"""DatadogMetricsCollector: the exact DogStatsD datagrams a real scheduler sends to a UDP agent."""

from __future__ import annotations

import logging
import socket

import pytest

from luigi import configuration
from luigi.contrib import datadog_metric
from luigi.metrics import MetricsCollectors

DEFAULT_TAGS = "environment:development,application:luigi"


class Agent:
    """A UDP socket standing in for the Datadog agent."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]

    def receive(self, count: int) -> list[str]:
        return [self.sock.recv(65535).decode() for _ in range(count)]

    def assert_nothing_else(self) -> None:
        """Send a marker through the same client: it must be the very next datagram (UDP on loopback keeps order)."""
        datadog_metric.statsd.increment("marker")
        assert self.receive(1) == ["marker:1|c"]


@pytest.fixture
def agent():
    agent = Agent()
    config = configuration.get_config()
    config.set("datadog", "statsd_host", "127.0.0.1")
    config.set("datadog", "statsd_port", str(agent.port))
    config.set("scheduler", "metrics_collector", "datadog")
    yield agent
    datadog_metric.statsd.close()
    agent.sock.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def make_scheduler(**kwargs):
    from luigi.scheduler import Scheduler

    clock = Clock()
    return Scheduler(clock=clock, **kwargs), clock


def test_started_done_and_failed_tasks(agent):
    config = configuration.get_config()
    config.set("datadog", "metric_namespace", "etl")
    config.set("datadog", "environment", "prod")
    config.set("datadog", "default_tags", "application:luigi, team:data")
    sch, clock = make_scheduler()
    assert isinstance(sch._state._metrics_collector, datadog_metric.DatadogMetricsCollector)
    tags = "environment:prod,application:luigi,team:data"

    sch.add_task(worker="W", task_id="Load_1", family="Load", params={"day": "2024-01-01", "token": "s3cret"},
                 param_visibilities={"day": 0, "token": 1})
    assert sch.get_work(worker="W")["task_id"] == "Load_1"
    clock.now += 2.5
    sch.add_task(worker="W", task_id="Load_1", status="DONE")
    assert agent.receive(5) == [
        f"etl.task.started:1|c|#task_name:Load,day:2024-01-01,{tags}",
        "_e{31,51}:Luigi: A task has been started!|A task has been started in the pipeline named: Load"
        f"|k:Load_1|p:low|t:info|#task_name:Load,day:2024-01-01,task_state:STARTED,{tags}",
        f"etl.task.done:1|c|#task_name:Load,day:2024-01-01,{tags}",
        f"etl.task.execution_time:2.5|g|#task_name:Load,day:2024-01-01,{tags}",
        "_e{33,48}:Luigi: A task has been completed!|A task has completed in the pipeline named: Load"
        f"|k:Load_1|p:low|t:info|#task_name:Load,day:2024-01-01,task_state:DONE,{tags}",
    ]

    sch.add_task(worker="W", task_id="Copy_1", family="Copy", params={})
    assert sch.get_work(worker="W")["task_id"] == "Copy_1"
    sch.add_task(worker="W", task_id="Copy_1", status="FAILED", expl='"boom"')
    assert agent.receive(4)[2:] == [
        f"etl.task.failed:1|c|#task_name:Copy,{tags}",
        "_e{25,45}:Luigi: A task has failed!|A task has failed in the pipeline named: Copy"
        f"|k:Copy_1|p:normal|t:error|#task_name:Copy,task_state:FAILED,{tags}",
    ]
    agent.assert_nothing_else()


def test_excessive_failures_disable_the_task(agent):
    sch, _ = make_scheduler(retry_count=1, disable_window=30, disable_persist=600)
    sch.add_task(worker="W", task_id="Flaky_1", family="Flaky", params={"n": "1"}, status="FAILED", expl='"x"')
    text = ("A task has been disabled in the pipeline named: Flaky. "
            "The task has failed 1 times in the last 30 seconds, so it is being disabled for 600 seconds.")
    assert agent.receive(2) == [
        f"luigi.task.disabled:1|c|#task_name:Flaky,n:1,{DEFAULT_TAGS}",
        f"_e{{32,{len(text)}}}:Luigi: A task has been disabled!|{text}"
        f"|k:Flaky_1|p:normal|t:error|#task_name:Flaky,n:1,task_state:DISABLED,{DEFAULT_TAGS}",
    ]
    agent.assert_nothing_else()


def test_task_already_done_without_running_sends_nothing(agent):
    sch, _ = make_scheduler()
    sch.add_task(worker="W", task_id="Done_1", family="Done", status="DONE")
    agent.assert_nothing_else()


def test_separators_in_values_cannot_corrupt_datagrams(agent):
    sch, _ = make_scheduler()
    sch.add_task(worker="W", task_id="T|1", family="T", params={"paths": "[a,b]", "note": "x|y\nz"})
    sch.get_work(worker="W")
    metric, event = agent.receive(2)
    assert metric == f"luigi.task.started:1|c|#task_name:T,paths:[a_b],note:x_y_z,{DEFAULT_TAGS}"
    assert "|k:T_1|" in event
    assert event.endswith(f"|#task_name:T,paths:[a_b],note:x_y_z,task_state:STARTED,{DEFAULT_TAGS}")


def test_event_lengths_count_utf8_bytes_and_newlines_are_escaped(agent):
    datadog_metric.initialize(statsd_host="127.0.0.1", statsd_port=agent.port)
    datadog_metric.api.Event.create(title="Tâche", text="line1\nline2", tags=["a:b"], alert_type="warning",
                                    priority="low")
    assert agent.receive(1) == ["_e{6,12}:Tâche|line1\\nline2|p:low|t:warning|#a:b"]


def test_unresolvable_host_does_not_break_the_scheduler(agent, caplog):
    configuration.get_config().set("datadog", "statsd_host", "no-such-host.invalid")
    sch, _ = make_scheduler()
    with caplog.at_level(logging.WARNING, logger="luigi.contrib.datadog_metric"):
        sch.add_task(worker="W", task_id="A", family="A")
        assert sch.get_work(worker="W")["task_id"] == "A"
        sch.add_task(worker="W", task_id="A", status="DONE")
    assert sch.task_list("DONE", "").keys() == {"A"}
    # one resolution attempt, then datagrams are dropped silently until the retry interval passes
    warnings = [r.getMessage() for r in caplog.records if r.name == "luigi.contrib.datadog_metric"]
    assert len(warnings) == 1 and "Cannot resolve the DogStatsD host no-such-host.invalid" in warnings[0]


def test_send_errors_are_logged_and_dropped(agent, caplog):
    sch, _ = make_scheduler()
    huge = "v" * 70_000  # larger than any UDP datagram: sendto fails with EMSGSIZE
    with caplog.at_level(logging.WARNING, logger="luigi.contrib.datadog_metric"):
        sch.add_task(worker="W", task_id="Big", family="Big", params={"blob": huge})
        assert sch.get_work(worker="W")["task_id"] == "Big"
    # both datagrams (metric and event) were dropped, but the outage is reported once
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith(f"Dropped a DogStatsD datagram for 127.0.0.1:{agent.port}: ")
    sch.add_task(worker="W", task_id="Small", family="Small")
    assert sch.get_work(worker="W")["task_id"] == "Small"
    assert agent.receive(1)[0].startswith("luigi.task.started:1|c|#task_name:Small,")


def test_factory_builds_it_and_metrics_page_stays_empty(agent):
    collector = MetricsCollectors.get(MetricsCollectors.datadog)
    assert isinstance(collector, datadog_metric.DatadogMetricsCollector)
    assert collector.generate_latest() is None
    config = datadog_metric.datadog()
    assert (config.api_key, config.app_key, config.default_tags, config.environment, config.metric_namespace,
            config.statsd_port) == ("dummy_api_key", "dummy_app_key", "application:luigi", "development", "luigi",
                                    agent.port)
