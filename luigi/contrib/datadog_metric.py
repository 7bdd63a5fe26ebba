"""Datadog metrics for the central scheduler (``[scheduler] metrics_collector = datadog``).

Every task start, failure, disabling and completion becomes a DogStatsD counter increment
(``<namespace>.task.started|failed|disabled|done``), completions also set the gauge
``<namespace>.task.execution_time`` (seconds), and each of them emits a Datadog event. Metrics and
events are tagged ``task_name:<family>``, ``<param>:<value>`` for each public task parameter,
``environment:<environment>`` and the comma-separated ``[datadog] default_tags``.

Luigi needs the third-party ``datadog`` package for this; here the module speaks the DogStatsD
datagram protocol itself over UDP to the agent at ``statsd_host:statsd_port``, events included
(``_e{..}`` datagrams, which the agent forwards to Datadog with its own API key). The names
``statsd``, ``api`` and ``initialize`` mirror the ``datadog`` package's and are looked up at call
time, so they can be replaced (e.g. by mocks) like Luigi's.

Differences from Luigi, on purpose: hidden/private task parameters are never sent as tags (they
may hold secrets), and a send failure is logged and dropped instead of reaching the scheduler.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from luigi.metrics import MetricsCollector
from luigi.parameter import IntParameter, Parameter
from luigi.task import Config

logger = logging.getLogger(__name__)

_RESOLVE_RETRY_SECONDS = 60.0
_MAX_AGGREGATION_KEY_LENGTH = 100


class datadog(Config):
    api_key = Parameter(default="dummy_api_key", description="API key provided by Datadog")
    app_key = Parameter(default="dummy_app_key", description="APP key provided by Datadog")
    default_tags = Parameter(default="application:luigi", description="Default tags for every event and metric")
    environment = Parameter(default="development", description="Environment of which the pipeline is ran from")
    metric_namespace = Parameter(default="luigi", description="Default namespace for events and metrics")
    statsd_host = Parameter(default="localhost", description="StatsD host implementing the Datadog service")
    statsd_port = IntParameter(default=8125, description="StatsD port implementing the Datadog service")


def _clean(text: str) -> str:
    """Make ``text`` safe inside a pipe/comma separated DogStatsD field (tags, metric names)."""
    return text.replace("|", "_").replace(",", "_").replace("\n", "_").replace("\r", "_")


def _utf8(text: str) -> bytes:
    """Encode for the wire; unencodable characters (lone surrogates) become ``?`` rather than raising."""
    return text.encode("utf-8", "replace")


def _format_value(value: float) -> str:
    """Render a metric value the way the agent parses it (no trailing ``.0`` noise for integers)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class DogStatsdClient:
    """Fire-and-forget DogStatsD sender: one datagram per metric or event over a non-blocking UDP socket.

    The agent address is resolved once (not per datagram, so a slow DNS never stalls the scheduler on
    every event); if resolution fails it is retried at most once a minute while datagrams are dropped.
    """

    def __init__(self, host: str = "localhost", port: int = 8125) -> None:
        self._sock: socket.socket | None = None
        self._address: Any = None
        self.configure(host, port)

    def configure(self, host: str, port: int) -> None:
        """Point the client at the agent on ``host:port``; the address is resolved on the next send."""
        self.close()
        self.host = host
        self.port = int(port)
        self._next_resolve_at = 0.0
        self._failing = False

    def close(self) -> None:
        """Release the socket (a later send opens a new one)."""
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._address = None

    def increment(self, metric: str, value: float = 1, tags: Iterable[str] | None = None) -> None:
        """Count ``value`` more occurrences of ``metric``."""
        self._send(f"{_clean(metric)}:{_format_value(value)}|c" + self._tag_suffix(tags))

    def gauge(self, metric: str, value: float, tags: Iterable[str] | None = None) -> None:
        """Record the current ``value`` of ``metric``."""
        self._send(f"{_clean(metric)}:{_format_value(value)}|g" + self._tag_suffix(tags))

    def event(self, title: str, text: str, alert_type: str | None = None, priority: str | None = None,
              tags: Iterable[str] | None = None, aggregation_key: str | None = None) -> None:
        """Post a Datadog event through the agent (title and text lengths are UTF-8 byte counts)."""
        title = title.replace("\n", "\\n")
        text = text.replace("\n", "\\n")
        head = f"_e{{{len(_utf8(title))},{len(_utf8(text))}}}:{title}|{text}"
        fields = [head]
        if aggregation_key:
            fields.append("k:" + _clean(aggregation_key)[:_MAX_AGGREGATION_KEY_LENGTH])
        if priority:
            fields.append("p:" + priority)
        if alert_type:
            fields.append("t:" + alert_type)
        self._send("|".join(fields) + self._tag_suffix(tags))

    @staticmethod
    def _tag_suffix(tags: Iterable[str] | None) -> str:
        tags = [_clean(tag) for tag in tags or ()]
        return "|#" + ",".join(tags) if tags else ""

    def _send(self, datagram: str) -> None:
        """Send one datagram; any network error is logged and the datagram dropped."""
        try:
            sock = self._sock or self._open()
            if sock is not None:
                sock.sendto(_utf8(datagram), self._address)
                self._failing = False
        except OSError as exc:
            # warn once per outage; an agent that stays unreachable must not flood the scheduler log
            log = logger.debug if self._failing else logger.warning
            self._failing = True
            log("Dropped a DogStatsD datagram for %s:%s: %s", self.host, self.port, exc)

    def _open(self) -> socket.socket | None:
        """Resolve the agent address and open a matching socket; None while it cannot be resolved."""
        now = time.monotonic()
        if now < self._next_resolve_at:
            return None
        try:
            family, _, _, _, address = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)[0]
        except (OSError, UnicodeError) as exc:  # UnicodeError: host names IDNA cannot encode
            self._next_resolve_at = now + _RESOLVE_RETRY_SECONDS
            logger.warning("Cannot resolve the DogStatsD host %s (metrics dropped, retrying in %ds): %s",
                           self.host, _RESOLVE_RETRY_SECONDS, exc)
            return None
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setblocking(False)  # a full send buffer drops the datagram instead of stalling the scheduler
        self._sock, self._address = sock, address
        return sock


statsd = DogStatsdClient()


class _Event:
    """Stand-in for ``datadog.api.Event``: events travel to the agent as DogStatsD datagrams."""

    @staticmethod
    def create(title: str, text: str, tags: Iterable[str] | None = None, alert_type: str = "info",
               priority: str = "normal", aggregation_key: str | None = None, **ignored: Any) -> None:
        statsd.event(title, text, alert_type=alert_type, priority=priority, tags=tags,
                     aggregation_key=aggregation_key)


api = SimpleNamespace(Event=_Event)


def initialize(api_key: str | None = None, app_key: str | None = None, statsd_host: str = "localhost",
               statsd_port: int = 8125, **ignored: Any) -> None:
    """Point ``statsd`` at the agent. The keys are accepted for compatibility only: the agent
    authenticates to Datadog itself, so nothing here talks to Datadog's HTTP API."""
    statsd.configure(statsd_host, statsd_port)


class DatadogMetricsCollector(MetricsCollector):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self._config = datadog(**kwargs)
        initialize(api_key=self._config.api_key, app_key=self._config.app_key,
                   statsd_host=self._config.statsd_host, statsd_port=self._config.statsd_port)
        extra = (tag.strip() for tag in self._config.default_tags.split(","))
        self._default_tags = [f"environment:{self._config.environment}", *(tag for tag in extra if tag)]

    def handle_task_started(self, task: Any) -> None:
        title = "Luigi: A task has been started!"
        text = f"A task has been started in the pipeline named: {task.family}"
        self._record(task, "started", "STARTED", title, text, alert_type="info", priority="low")

    def handle_task_failed(self, task: Any) -> None:
        title = "Luigi: A task has failed!"
        text = f"A task has failed in the pipeline named: {task.family}"
        self._record(task, "failed", "FAILED", title, text, alert_type="error", priority="normal")

    def handle_task_disabled(self, task: Any, config: Any) -> None:
        """The failure count and window come from the task's own retry policy (Luigi quotes the scheduler
        defaults, which are wrong for tasks that override ``retry_count``/``disable_window``)."""
        policy = task.retry_policy
        title = "Luigi: A task has been disabled!"
        text = (f"A task has been disabled in the pipeline named: {task.family}. "
                f"The task has failed {policy.retry_count} times in the last {policy.disable_window} seconds, "
                f"so it is being disabled for {config.disable_persist} seconds.")
        self._record(task, "disabled", "DISABLED", title, text, alert_type="error", priority="normal")

    def handle_task_done(self, task: Any) -> None:
        """A task marked DONE without ever running (already complete) has no execution time and is skipped."""
        if task.time_running is None:
            return
        title = "Luigi: A task has been completed!"
        text = f"A task has completed in the pipeline named: {task.family}"
        self._record(task, "done", "DONE", title, text, alert_type="info", priority="low",
                     execution_time=task.updated - task.time_running)

    def _record(self, task: Any, metric: str, state: str, title: str, text: str, alert_type: str,
                priority: str, execution_time: float | None = None) -> None:
        """Increment ``<ns>.task.<metric>``, set the execution-time gauge if given, and emit the event."""
        namespace = self._config.metric_namespace
        task_tags = [f"task_name:{task.family}", *(f"{key}:{value}" for key, value in task.public_params.items())]
        tags = task_tags + self._default_tags
        statsd.increment(f"{namespace}.task.{metric}", 1, tags=tags)
        if execution_time is not None:
            statsd.gauge(f"{namespace}.task.execution_time", execution_time, tags=tags)
        api.Event.create(title=title, text=text, tags=[*task_tags, f"task_state:{state}", *self._default_tags],
                         alert_type=alert_type, priority=priority, aggregation_key=task.id)
