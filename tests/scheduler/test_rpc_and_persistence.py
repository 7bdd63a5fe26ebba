"""RPC registration, pickle state files, record export (drain_changes/restore)."""

from __future__ import annotations

import json
import logging
import pickle

import pytest

import luigi.scheduler as scheduler_module
from luigi.scheduler import DONE, FAILED, PENDING, RPC_METHODS, Scheduler, SimpleTaskState, rpc_method

W = "worker-1"

EXPECTED_RPC_ORDER = [
    "prune", "add_task_batcher", "forgive_failures", "mark_as_done", "add_task", "announce_scheduling_failure",
    "add_worker", "disable_worker", "set_worker_processes", "send_scheduler_message",
    "add_scheduler_message_response", "get_scheduler_message_response", "has_task_history", "is_pause_enabled",
    "is_paused", "pause", "unpause", "update_resources", "update_resource", "count_pending", "get_work", "ping",
    "graph", "dep_graph", "inverse_dep_graph", "task_list", "worker_list", "resource_list", "task_search",
    "re_enable_task", "fetch_error", "set_task_status_message", "get_task_status_message",
    "set_task_progress_percentage", "get_task_progress_percentage", "decrease_running_task_resources",
    "get_running_task_resources", "update_metrics_task_started", "report_task_statistics",
]


class RecordingClient:
    def __init__(self):
        self.calls = []

    def _request(self, url, data, **request_args):
        self.calls.append((url, data, request_args))
        return "reply"


for _name, _proxy in RPC_METHODS.items():
    setattr(RecordingClient, _name, _proxy)


def test_rpc_methods_registered_in_order():
    assert [name for name in RPC_METHODS if name in EXPECTED_RPC_ORDER] == EXPECTED_RPC_ORDER


def test_proxy_sends_all_defaults_and_request_args():
    client = RecordingClient()
    assert client.get_work(worker="w", host="h") == "reply"
    assert client.calls[-1] == ("/api/get_work", {"host": "h", "assistant": False, "current_tasks": None,
                                                  "worker": "w"}, {"allow_null": False})
    client.ping(worker="w")
    assert client.calls[-1] == ("/api/ping", {"worker": "w"}, {"attempts": 1})
    client.add_worker("w", [["a", 1]])
    assert client.calls[-1] == ("/api/add_worker", {"worker": "w", "info": [["a", 1]]}, {})
    client.add_task(task_id="T", worker="w")
    sent = client.calls[-1][1]
    assert sent["status"] == PENDING and sent["runnable"] is True and "accepts_messages" in sent


def test_proxy_rejects_missing_required_arguments():
    with pytest.raises(TypeError, match="add_worker takes 2 arguments \\(1 given\\)"):
        RecordingClient().add_worker("w")


def test_rpc_method_returns_the_function_unchanged():
    def probe(self, a, b=2):
        return a + b

    assert rpc_method()(probe) is probe
    try:
        assert "probe" in RPC_METHODS
    finally:
        del RPC_METHODS["probe"]


def test_strict_methods_reject_unknown_keywords(sch):
    with pytest.raises(TypeError):
        sch.count_pending(worker=W, extra=1)
    sch.add_task(worker=W, task_id="A", unexpected="ignored")


def test_dump_and_load_round_trip(tmp_path, make_scheduler):
    path = str(tmp_path / "state.pickle")
    sch = make_scheduler(state_path=path)
    sch.add_task(worker=W, task_id="A", deps=["B"], priority=3)
    sch.add_task(worker=W, task_id="B", status=DONE)
    sch.add_task_batcher(worker=W, task_family="F", batched_args=["x"])
    sch.dump()
    with open(path, "rb") as fobj:
        tasks, workers, batchers = pickle.load(fobj)
    assert type(tasks["A"]) is scheduler_module.Task and set(workers) == {W}
    assert batchers == {W: {"F": (["x"], float("inf"))}}

    fresh = make_scheduler(state_path=path)
    fresh.load()
    assert fresh._state.get_task("A").priority == 3
    assert fresh.get_work(worker=W)["task_id"] == "A"  # indexes were rebuilt on load


def test_load_missing_and_corrupt_files(tmp_path, make_scheduler, caplog):
    caplog.set_level(logging.INFO, logger="luigi.scheduler")
    missing = make_scheduler(state_path=str(tmp_path / "none.pickle"))
    missing.load()
    assert "No prior state file exists" in caplog.text
    corrupt_path = tmp_path / "bad.pickle"
    corrupt_path.write_bytes(b"not a pickle")
    corrupt = make_scheduler(state_path=str(corrupt_path))
    corrupt.load()
    assert "Error when loading state" in caplog.text and list(corrupt._state.get_active_tasks()) == []


def test_dump_failure_is_logged_not_raised(tmp_path, make_scheduler, caplog):
    sch = make_scheduler(state_path=str(tmp_path / "missing-dir" / "state.pickle"))
    sch.dump()
    assert "Failed saving scheduler state" in caplog.text


def test_drain_changes_reports_mutated_and_removed_ids(sch, clock):
    state = sch._state
    state.drain_changes()
    sch.add_task(worker=W, task_id="A", deps=["B"])
    tasks, workers = state.drain_changes()
    assert tasks == {"A", "B"} and workers == {W}
    assert state.drain_changes() == (set(), set())
    clock.advance(11)
    sch.prune()
    clock.advance(1001)
    sch.prune()
    tasks, workers = state.drain_changes()
    assert {"A", "B"} <= tasks and W in workers
    assert not state.has_task("A") and W not in state.get_worker_ids()


def test_first_drain_reports_everything_known_before_tracking_started(sch):
    """Without a store nothing is tracked; the first drain (a store attaching) sees every live id."""
    sch.add_task(worker=W, task_id="A", deps=["B"])
    assert sch._state.drain_changes() == ({"A", "B"}, {W})
    sch.add_task(worker=W, task_id="A", status=DONE)
    assert sch._state.drain_changes() == ({"A"}, {W})


def test_restore_from_records_rebuilds_indexes(sch):
    sch.add_task(worker=W, task_id="A", deps=["B"], priority=2)
    sch.add_task(worker=W, task_id="B")
    sch.add_task(worker=W, task_id="C")
    sch.add_task(worker=W, task_id="C", status=FAILED)
    task_records = [json.loads(json.dumps(t.to_record())) for t in sch._state.get_active_tasks()]
    worker_records = [json.loads(json.dumps(w.to_record())) for w in sch._state.get_active_workers()]

    other = Scheduler(clock=sch._clock, retry_delay=100)
    other._state.restore(task_records, worker_records)
    assert other._state.drain_changes() == (set(), set())
    assert other.count_pending(W)["n_pending_tasks"] == 3
    assert other.get_work(worker=W)["task_id"] == "B"
    assert set(other._state._status_tasks[FAILED]) == {"C"}
    assert other._state.get_worker(W).tasks == {other._state.get_task(t) for t in "ABC"}


def test_simple_task_state_standalone_api(tmp_path):
    state = SimpleTaskState(str(tmp_path / "s.pickle"))
    task = scheduler_module.Task("A", PENDING, [], retry_policy=scheduler_module._get_empty_retry_policy())
    assert state.get_task("A", setdefault=task) is task
    assert state.get_active_task_count_for_status(PENDING) == 1 and state.num_pending_tasks() == 1
    assert state.get_batcher("w", "F") == (None, 1)
    state.set_batcher("w", "F", ["x"], 5)
    assert state.get_batcher("w", "F") == (["x"], 5)
    state.inactivate_tasks(["A"])
    assert not state.has_task("A") and state.get_active_task_count_for_status("") == 0
