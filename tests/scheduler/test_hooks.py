"""Task history hooks, metrics hooks and collectors, batched e-mails (spec §22-24)."""

from __future__ import annotations

import sys
import types
from unittest import mock

import pytest

import luigi.batch_notifier as batch_notifier_module
from luigi.batch_notifier import BatchNotifier
from luigi.metrics import MetricsCollector, MetricsCollectors, NoMetricsCollector
from luigi.scheduler import DISABLED, DONE, FAILED, Scheduler
from luigi.task_history import NopHistory, StoredTask, TaskHistory

W = "worker-1"


class RecordingHistory(TaskHistory):
    def __init__(self):
        self.events = []

    def task_scheduled(self, task):
        self.events.append(("scheduled", task.id))

    def task_finished(self, task, successful):
        self.events.append(("finished", task.id, successful))

    def task_started(self, task, worker_host):
        self.events.append(("started", task.id, worker_host))


def test_history_events_follow_reports_and_dispatch(make_scheduler):
    history = RecordingHistory()
    sch = make_scheduler(task_history_impl=history)
    sch.add_task(worker=W, task_id="A")
    sch.add_task(worker=W, task_id="A")
    sch.get_work(worker=W, host="box")
    sch.add_task(worker=W, task_id="A", status=DONE)
    sch.add_task(worker=W, task_id="B", status=FAILED)
    assert history.events == [("scheduled", "A"), ("scheduled", "A"), ("started", "A", "box"),
                              ("finished", "A", True), ("finished", "B", False)]


def test_history_errors_are_logged_not_raised(make_scheduler, caplog):
    broken = mock.Mock(spec=TaskHistory)
    broken.task_scheduled.side_effect = RuntimeError("db down")
    sch = make_scheduler(task_history_impl=broken)
    sch.add_task(worker=W, task_id="A")
    assert "Error saving Task history" in caplog.text
    assert sch._state.get_task("A") is not None


def test_stored_task_and_nop_history():
    task = mock.Mock(family="F", params={"a": "1"})
    stored = StoredTask(task, "DONE", host="h")
    assert (stored.task_family, stored.parameters, stored.status, stored.host, stored.record_id) == \
        ("F", {"a": "1"}, "DONE", "h", None)
    NopHistory().task_started(task, "h")
    assert isinstance(Scheduler(clock=lambda: 0.0).task_history, NopHistory)


class RecordingCollector(MetricsCollector):
    def __init__(self):
        self.events = []

    def handle_task_started(self, task):
        self.events.append(("started", task.id))

    def handle_task_failed(self, task):
        self.events.append(("failed", task.id))

    def handle_task_disabled(self, task, config):
        self.events.append(("disabled", task.id, config.retry_count))

    def handle_task_done(self, task):
        self.events.append(("done", task.id))

    def handle_task_statistics(self, task, statistics):
        self.events.append(("stats", task.id, statistics))


def test_metrics_hooks(make_scheduler):
    sch = make_scheduler(retry_count=2, disable_window=100)
    collector = sch._state._metrics_collector = RecordingCollector()
    sch.add_task(worker=W, task_id="A")
    sch.get_work(worker=W)
    sch.add_task(worker=W, task_id="A", status=FAILED)
    sch.add_task(worker=W, task_id="A", status=FAILED)
    sch.report_task_statistics("A", {"rows": 3})
    sch.mark_as_done("A")
    assert collector.events == [("started", "A"), ("failed", "A"), ("disabled", "A", 2),
                                ("stats", "A", {"rows": 3}), ("done", "A")]


def test_metrics_collectors_factory(monkeypatch):
    assert MetricsCollectors.none is MetricsCollectors.default
    assert isinstance(MetricsCollectors.get(MetricsCollectors.default), NoMetricsCollector)
    with pytest.raises(ValueError, match="custom_import is None"):
        MetricsCollectors.get(MetricsCollectors.custom)
    module = types.ModuleType("fake_metrics_mod")
    module.Good = RecordingCollector
    module.Bad = object
    monkeypatch.setitem(sys.modules, "fake_metrics_mod", module)
    assert isinstance(MetricsCollectors.get(MetricsCollectors.custom, "fake_metrics_mod.Good"), RecordingCollector)
    with pytest.raises(ValueError, match="Custom Import: fake_metrics_mod.Bad is not a subclass of MetricsCollector"):
        MetricsCollectors.get(MetricsCollectors.custom, "fake_metrics_mod.Bad")
    assert NoMetricsCollector().generate_latest() is None


def test_custom_collector_selected_by_config(monkeypatch):
    module = types.ModuleType("fake_metrics_mod2")
    module.Good = RecordingCollector
    monkeypatch.setitem(sys.modules, "fake_metrics_mod2", module)
    sch = Scheduler(clock=lambda: 0.0, metrics_collector=MetricsCollectors.custom,
                    metrics_custom_import="fake_metrics_mod2.Good")
    assert isinstance(sch._state._metrics_collector, RecordingCollector)


def test_batch_emails_feed_the_notifier(make_scheduler):
    with mock.patch("luigi.scheduler.BatchNotifier") as notifier_class:
        sch = make_scheduler(batch_emails=True, retry_count=1)
    notifier = notifier_class.return_value
    sch.add_task_batcher(worker=W, task_family="F", batched_args=["d"])
    with mock.patch("luigi.scheduler.notifications.send_error_email") as immediate:
        sch.add_task(worker=W, task_id="A", family="F", params={"d": "1", "k": "x"}, status=FAILED,
                     expl='"boom"', owners=["o@x"])
    immediate.assert_not_called()
    notifier.add_failure.assert_called_once_with("F(d=1, k=x)", "F", {"k": "x"}, "boom", ["o@x"])
    notifier.add_disable.assert_called_once_with("F(d=1, k=x)", "F", {"k": "x"}, ["o@x"])
    assert sch._state.get_task("A").status == DISABLED
    sch.add_task(worker=W, task_id="B", family="G", status=FAILED)  # expl/owners None do not crash
    sch.announce_scheduling_failure(worker=W, task_name="F(d=2)", family="F", params={"d": "2", "k": "y"},
                                    expl="tb", owners=None)
    notifier.add_scheduling_fail.assert_called_once_with("F(d=2)", "F", {"k": "y"}, "tb", ())
    sch.prune()
    notifier.update.assert_called_once_with()
    sch.dump()
    notifier.send_email.assert_called_once_with()


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(batch_notifier_module, "send_email", lambda *args: calls.append(args))
    return calls


def test_batch_notifier_plain_body_example(sent):
    notifier = BatchNotifier(batch_mode="all")
    notifier.add_failure("TaskA(a=1)", "TaskA", {"a": "1"}, "same", [])
    notifier.add_failure("TaskA(a=2)", "TaskA", {"a": "2"}, "same", [])
    notifier.add_failure("TaskA(a=2)", "TaskA", {"a": "2"}, "same", [])
    notifier.add_failure("TaskZ()", "TaskZ", {}, "other", [])
    notifier.send_email()
    assert notifier._fail_counts == {}
    assert sent == []  # no receiver configured and no owners -> nobody to mail
    notifier.add_failure("TaskA(a=1)", "TaskA", {"a": "1"}, "same", ["me@x"])
    notifier.add_failure("TaskA(a=2)", "TaskA", {"a": "2"}, "same", ["me@x"])
    notifier.add_failure("TaskA(a=2)", "TaskA", {"a": "2"}, "same", ["me@x"])
    notifier.add_failure("TaskZ()", "TaskZ", {}, "other", ["me@x"])
    notifier.send_email()
    (subject, body, _sender, recipients), = sent
    assert subject == "Luigi: Your tasks have 4 failures in the last 60 minutes"
    assert recipients == ("me@x",)
    assert body == "- TaskA(a=2) (2 failures)\n  TaskA(a=1) (1 failure)\n\n      same\n\n- TaskZ() (1 failure)\n\n      other"


def test_batch_notifier_counts_keys_and_interval(sent, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(batch_notifier_module.time, "time", lambda: now[0])
    notifier = BatchNotifier(error_messages=0)
    notifier.add_failure("TaskA(a=1)", "TaskA", {"a": "1"}, "x", ["o"])
    notifier.add_disable("TaskA(a=1)", "TaskA", {"a": "1"}, ["o"])
    notifier.add_scheduling_fail("TaskB()", "TaskB", {}, "tb", ["o"])
    notifier.update()
    assert sent == []
    now[0] += 3600
    notifier.update()
    (subject, body, _sender, _recipients), = sent
    assert subject == "Luigi: Your tasks have 1 failure, 1 disable, 1 scheduling failure in the last 60 minutes"
    assert body == "- TaskA(a=1) (1 failure, 1 disable)\n  TaskB() (1 scheduling failure)"  # same (empty) text
    assert notifier._next_send == now[0] + 3600


def test_batch_notifier_family_mode_keeps_recent_distinct_messages(sent):
    notifier = BatchNotifier(batch_mode="family", error_messages=2)
    notifier.add_failure("TaskA(a=1,b=1)", "TaskA", {"a": "1"}, "Traceback\n  line\nValueError: x", ["o"])
    notifier.add_failure("TaskA(a=1,b=1)", "TaskA", {"a": "1"}, "err2", ["o"])
    notifier.add_failure("TaskA(a=2,b=1)", "TaskA", {"a": "2"}, "err2", ["o"])
    notifier.add_disable("TaskA(a=2,b=1)", "TaskA", {"a": "2"}, ["o"])
    notifier.add_scheduling_fail("TaskB()", "TaskB", {}, "sched err", ["o"])
    notifier.add_disable("TaskC(x=1)", "TaskC", {"x": "1"}, ["o"])
    notifier.send_email()
    assert sent[0][1] == ("- TaskA (3 failures, 1 disable)\n\n      Traceback\n        line\n      ValueError: x\n\n"
                          "      err2\n\n- TaskB (1 scheduling failure)\n\n      sched err\n\n- TaskC (1 disable)")
