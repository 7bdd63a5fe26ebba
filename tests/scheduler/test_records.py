"""Scheduler-side records: OrderedSet, Task, Worker, RetryPolicy, and their record/pickle forms."""

from __future__ import annotations

import json
import pickle

import pytest

import luigi.scheduler as scheduler_module
from luigi.scheduler import OrderedSet, RetryPolicy, Task, Worker, _get_default, _get_empty_retry_policy


def test_ordered_set_keeps_first_insertion_order_and_supports_mixins():
    items = OrderedSet(["b", "a", "c"])
    items.add("b")
    assert list(items) == ["b", "a", "c"]
    assert list(reversed(items)) == ["c", "a", "b"]
    assert items.peek() == "c" and items.peek(last=False) == "b"
    assert items.pop(last=False) == "b"
    items -= {"a"}
    assert list(items) == ["c"]
    assert repr(items) == "OrderedSet(['c'])"
    assert repr(OrderedSet()) == "OrderedSet()"
    with pytest.raises(KeyError, match="set is empty"):
        OrderedSet().peek()


def test_ordered_set_equality_is_order_sensitive_only_between_ordered_sets():
    assert OrderedSet([1, 2]) != OrderedSet([2, 1])
    assert OrderedSet([1, 2]) == OrderedSet([1, 2])
    assert OrderedSet([1, 2]) == {2, 1}


def test_ordered_set_pickles_in_luigis_linked_list_layout():
    state = OrderedSet(["x", "y"]).__getstate__()
    assert list(state["map"]) == ["x", "y"]
    assert state["end"][2][0] == "x" and state["end"][1][0] == "y"
    restored = pickle.loads(pickle.dumps(OrderedSet(["x", "y", "z"])))
    assert list(restored) == ["x", "y", "z"]


def test_retry_policy_helpers():
    assert RetryPolicy._fields == ("retry_count", "disable_hard_timeout", "disable_window")
    assert _get_empty_retry_policy() == RetryPolicy(None, None, None)
    assert _get_default(None, 5) == 5 and _get_default(0, 5) == 0


def test_task_failures_window_and_hard_timeout():
    task = Task("T", "PENDING", [], retry_policy=RetryPolicy(2, 100, 10), now=0.0)
    task.add_failure(now=1.0)
    assert not task.has_excessive_failures(now=1.0)
    task.add_failure(now=20.0)
    assert task.num_failures(now=20.0) == 1  # the first failure left the 10 s window
    assert task.has_excessive_failures(now=101.0)  # hard timeout measured from the first failure
    task.clear_failures()
    assert task.first_failure_time is None and task.num_failures(now=200.0) == 0


def test_task_params_visibility_and_pretty_id():
    task = Task("T", "PENDING", None, family="Fam", params={"b": "2", "a": "1", "h": "x", "p": "y"},
                param_visibilities={"h": 1, "p": 2}, retry_policy=_get_empty_retry_policy())
    assert task.public_params == {"b": "2", "a": "1"}
    assert task.hidden_params == {"h": "x"}
    assert task.pretty_id == "Fam(a=1, b=2)"
    assert task.deps == set() and task.resources == {} and task.is_batchable() is False
    assert repr(task).startswith("Task({")


def test_worker_record_basics():
    worker = Worker("w1", now=5.0)
    assert worker.last_active == 5.0 and worker.started == 5.0 and str(worker) == "w1"
    worker.add_info([("host", "h"), ("assistant", True)])
    assert worker.assistant and worker.state == "active"
    worker.add_rpc_message("set_worker_processes", n=3)
    assert worker.fetch_rpc_messages() == [{"name": "set_worker_processes", "kwargs": {"n": 3}}]
    assert worker.rpc_messages == []
    worker.update({"host": "h"}, get_work=True, now=9.0)
    assert (worker.reference, worker.last_active, worker.last_get_work) == ({"host": "h"}, 9.0, 9.0)


def test_task_and_worker_records_are_json_and_round_trip():
    task = Task("T", "FAILED", ["D"], family="F", params={"a": "1"}, retry_policy=RetryPolicy(1, 2, 3), now=7.0)
    task.workers.add("w2")
    task.workers.add("w1")
    task.stakeholders.add("w1")
    task.add_failure(now=8.0)
    record = json.loads(json.dumps(task.to_record()))
    clone = Task.from_record(record)
    assert list(clone.workers) == ["w2", "w1"] and clone.stakeholders == {"w1"} and clone.deps == {"D"}
    assert clone.retry_policy == RetryPolicy(1, 2, 3) and list(clone.failures) == [8.0]
    assert clone.pretty_id == "F(a=1)" and clone.time == 7.0

    worker = Worker("w1", now=1.0)
    worker.tasks.add(task)
    worker_record = json.loads(json.dumps(worker.to_record()))
    assert worker_record["tasks"] == ["T"]
    assert Worker.from_record(worker_record, {"T": clone}).tasks == {clone}


def test_records_are_pickled_under_the_public_module_names():
    assert Task.__module__ == Worker.__module__ == OrderedSet.__module__ == "luigi.scheduler"
    assert scheduler_module.Task is Task


def test_task_records_pickle_and_copy_with_every_protocol():
    """A record rebuilds from ``luigi.scheduler.Task`` plus a plain state dict, whatever the
    protocol (state files use the default one), and copies keep every field."""
    import copy
    import pickle

    task = Task("T", "PENDING", ["D"], {"cpu": 1}, 5, "Fam", "mod", {"x": "1"}, {"x": 0}, now=7.0)
    task.stakeholders.add("w")
    task.workers.add("w")
    task.extra_field = "kept"
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        data = pickle.dumps(task, protocol)
        assert b"luigi.scheduler" in data and b"pyx" not in data
        clone = pickle.loads(data)
        assert type(clone) is Task
        assert (clone.id, clone.status, clone.deps, clone.resources, clone.priority, clone.family) == (
            "T", "PENDING", {"D"}, {"cpu": 1}, 5, "Fam")
        assert (clone.params, set(clone.stakeholders), list(clone.workers), clone.time) == ({"x": "1"}, {"w"}, ["w"], 7.0)
        assert clone.extra_field == "kept" and not hasattr(clone, "resources_running")
    for clone in (copy.copy(task), copy.deepcopy(task)):
        assert (clone.id, clone.deps, clone.extra_field) == ("T", {"D"}, "kept")


def test_module_level_names():
    s = scheduler_module
    assert s.UPSTREAM_SEVERITY_ORDER == ("", "UPSTREAM_RUNNING", "UPSTREAM_MISSING_INPUT", "UPSTREAM_FAILED",
                                         "UPSTREAM_DISABLED")
    assert max(["UPSTREAM_FAILED", "UPSTREAM_RUNNING"], key=s.UPSTREAM_SEVERITY_KEY) == "UPSTREAM_FAILED"
    assert s.STATUS_TO_UPSTREAM_MAP == {"FAILED": "UPSTREAM_FAILED", "RUNNING": "UPSTREAM_RUNNING",
                                        "BATCH_RUNNING": "UPSTREAM_RUNNING", "PENDING": "UPSTREAM_MISSING_INPUT",
                                        "DISABLED": "UPSTREAM_DISABLED"}
    assert (s.WORKER_STATE_ACTIVE, s.WORKER_STATE_DISABLED) == ("active", "disabled")
    assert s.TASK_FAMILY_RE.match("Foo_bar_1a2b").group(1) == "Foo"
    assert s.TASK_FAMILY_RE.match("Foo(x=1)").group(1) == "Foo"
    assert s.TASK_FAMILY_RE.match("Foo") is None
    assert s._retry_policy_fields == ["retry_count", "disable_hard_timeout", "disable_window"]
    assert s.logger.name == "luigi.scheduler"
    for name in ("notifications", "BatchNotifier", "MetricsCollectors", "history", "ParameterVisibility", "Config",
                 "configuration", "parameter", "PENDING", "FAILED", "DONE", "RUNNING", "BATCH_RUNNING", "SUSPENDED",
                 "UNKNOWN", "DISABLED"):
        assert hasattr(s, name), name
    config = s.scheduler()
    assert (config.retry_delay, config.remove_delay, config.worker_disconnect_delay) == (900.0, 600.0, 60.0)
    assert (config.disable_window, config.retry_count, config.disable_persist) == (3600, 999999999, 86400)
    assert (config.max_shown_tasks, config.max_graph_nodes, config.stable_done_cooldown_secs) == (100000, 100000, 10)
    assert config.metrics_collector is s.MetricsCollectors.default and config.metrics_custom_import is None
    assert config._get_retry_policy() == RetryPolicy(999999999, 999999999, 3600)


def test_scheduler_options_from_config_file(tmp_path):
    from luigi import configuration

    configuration.get_config().set("scheduler", "retry_delay", "5")
    configuration.get_config().set("resources", "db", "3")
    sch = scheduler_module.Scheduler()
    assert sch._config.retry_delay == 5.0 and sch._resources == {"db": 3}


def test_compact_sets_behave_like_sets_and_pickle_as_luigi_does():
    from luigi._scheduler.records import StakeholderSet

    task = Task("A", "PENDING", ["B"])
    task.stakeholders.add("w1")
    task.stakeholders.add("w1")
    assert task.stakeholders == {"w1"} and {"w1"} == task.stakeholders and len(task.stakeholders) == 1
    state = task.__getstate__()
    assert type(state["stakeholders"]) is set  # state files keep Luigi's plain set
    clone = pickle.loads(pickle.dumps(task))
    assert isinstance(clone.stakeholders, StakeholderSet) and clone.stakeholders == {"w1"}
    clone.stakeholders.discard("w1")
    assert not clone.stakeholders and task.stakeholders == {"w1"}


def test_ordered_set_grows_past_the_compact_size_and_keeps_order():
    items = OrderedSet()
    for key in range(20):
        items.add(key)
    items.add(3)
    items.discard(4)
    assert list(items) == [k for k in range(20) if k != 4]
    assert items.peek() == 19 and items.peek(last=False) == 0
    assert items.pop() == 19 and items.pop(last=False) == 0 and len(items) == 17
