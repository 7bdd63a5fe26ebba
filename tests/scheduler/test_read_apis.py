"""Serialisation and read APIs (spec §19-20): exact keys, truncation, upstream status, graphs."""

from __future__ import annotations

from luigi.scheduler import (
    DONE,
    FAILED,
    UPSTREAM_DISABLED,
    UPSTREAM_FAILED,
    UPSTREAM_MISSING_INPUT,
    UPSTREAM_RUNNING,
)

W = "worker-1"

SERIALIZED_KEYS = ["display_name", "status", "workers", "worker_running", "time_running", "start_time",
                   "last_updated", "params", "name", "priority", "resources", "resources_running",
                   "tracking_url", "status_message", "progress_percentage"]


def test_serialized_task_keys(sch, clock):
    sch.add_task(worker=W, task_id="A", family="Fam", params={"a": "1", "secret": "s"},
                 param_visibilities={"secret": 2}, resources={"r": 1}, priority=4, deps=["B"])
    serialized = sch._serialize_task("A")
    assert list(serialized) == SERIALIZED_KEYS + ["deps"]
    assert serialized["display_name"] == "Fam(a=1)" and serialized["params"] == {"a": "1"}
    assert serialized["start_time"] == clock.now and serialized["resources_running"] is None
    assert serialized["deps"] == ["B"]
    assert list(sch._serialize_task("A", include_deps=False)) == SERIALIZED_KEYS


def test_running_and_disabled_extras(make_scheduler):
    sch = make_scheduler(retry_count=1)
    sch.add_task(worker=W, task_id="A", accepts_messages=True)
    sch.get_work(worker=W)
    assert sch._serialize_task("A")["accepts_messages"] is True
    sch.add_task(worker=W, task_id="B")
    sch.add_task(worker=W, task_id="B", status=FAILED)
    assert sch._serialize_task("B")["re_enable_able"] is True
    quiet = make_scheduler(send_messages=False)
    quiet.add_task(worker=W, task_id="A")
    quiet.get_work(worker=W)
    assert "accepts_messages" not in quiet._serialize_task("A")


def test_task_list_counts_from_the_status_index_when_over_the_limit(sch):
    for i in range(5):
        sch.add_task(worker=W, task_id=f"T{i}")
    assert sch.task_list("PENDING", "", max_shown_tasks=3) == {"num_tasks": 5}
    assert sch.task_list("PENDING", UPSTREAM_FAILED, max_shown_tasks=3) == {"num_tasks": -1}
    assert sch.task_list("", "", max_shown_tasks=3) == {"num_tasks": 5}
    assert len(sch.task_list("PENDING", "", limit=False, max_shown_tasks=3)) == 5
    assert set(sch.task_list("PENDING", "")) == {f"T{i}" for i in range(5)}


def test_task_list_search_is_case_insensitive_and_limited(sch):
    sch.add_task(worker=W, task_id="A1", family="Alpha", params={"x": "One"})
    sch.add_task(worker=W, task_id="A2", family="Alpha", params={"x": "two"})
    sch.add_task(worker=W, task_id="B1", family="Beta", params={"x": "one"})
    assert set(sch.task_list("", "", search="alpha ONE")) == {"A1"}
    assert sch.task_list("", "", search="one", max_shown_tasks=1) == {"num_tasks": 2}
    assert set(sch.task_list("", "", search="")) == {"A1", "A2", "B1"}


def test_upstream_status_filter(sch):
    sch.add_task(worker=W, task_id="Root", deps=["Mid"])
    sch.add_task(worker=W, task_id="Mid", deps=["Bad"])
    sch.add_task(worker=W, task_id="Bad")
    sch.add_task(worker=W, task_id="Bad", status=FAILED)
    sch.add_task(worker=W, task_id="Lonely")
    sch.add_task(worker=W, task_id="Ready", deps=["Done"])
    sch.add_task(worker=W, task_id="Done", status=DONE)
    assert set(sch.task_list("PENDING", UPSTREAM_FAILED)) == {"Root", "Mid"}
    assert set(sch.task_list("PENDING", UPSTREAM_MISSING_INPUT)) == {"Lonely"}
    table = {}
    assert sch._upstream_status("Ready", table) == ""
    assert sch._upstream_status("unknown", table) is None
    assert sch._upstream_status("Bad", table) == UPSTREAM_FAILED


def test_upstream_running_and_disabled(sch):
    sch.add_task(worker=W, task_id="A", deps=["R", "D"])
    sch.add_task(worker=W, task_id="R")
    sch.get_work(worker=W)
    assert sch._upstream_status("A", {}) == UPSTREAM_RUNNING
    sch.add_task(worker=W, task_id="D", status="DISABLED")
    assert sch._upstream_status("A", {}) == UPSTREAM_DISABLED
    assert set(sch.task_list("PENDING", UPSTREAM_DISABLED)) == {"A"}


def test_dep_graph_inverse_graph_and_placeholders(sch):
    sch.add_task(worker=W, task_id="Top", family="Top", deps=["Mid"])
    sch.add_task(worker=W, task_id="Mid", family="Mid", deps=["Leaf_abc", "Done"])
    sch.add_task(worker=W, task_id="Done", family="Done", status=DONE)
    graph = sch.dep_graph("Top")
    assert set(graph) == {"Top", "Mid", "Leaf_abc", "Done"}
    assert "display_name" in graph["Top"] and "display_name" not in graph["Mid"]
    assert graph["Leaf_abc"] == {"deps": [], "status": "UNKNOWN", "workers": [], "start_time": "UNKNOWN",
                                 "params": {"task_id": "Leaf_abc"}, "name": "Leaf", "priority": 0}
    assert sorted(sch.dep_graph("Top", include_done=False)["Mid"]["deps"]) == ["Leaf_abc"]
    inverse = sch.inverse_dep_graph("Done")
    assert set(inverse) == {"Done", "Mid", "Top"} and inverse["Done"]["deps"] == ["Mid"]
    assert sch.dep_graph("nope") == {} and sch.inverse_dep_graph("nope") == {}


def test_graph_limits_nodes_per_traversal(make_scheduler):
    sch = make_scheduler(max_graph_nodes=2)
    sch.add_task(worker=W, task_id="A", family="A", deps=["B"])
    sch.add_task(worker=W, task_id="B", family="B", deps=["C"])
    sch.add_task(worker=W, task_id="C", family="C")
    assert set(sch.dep_graph("A")) == {"A", "B"}
    assert set(sch.graph()) == {"A", "B"}  # C was queued (seen) by A's truncated traversal


def test_worker_list(sch, clock):
    sch.add_worker(W, [("host", "h"), ("first_task", "A")])
    sch.add_task(worker=W, task_id="A", family="Fam", params={"p": "1"})
    sch.add_task(worker=W, task_id="B")
    clock.advance(1)
    sch.add_task(worker="w2", task_id="B")
    sch.get_work(worker=W)
    workers = sch.worker_list()
    assert [w["name"] for w in workers] == ["w2", W]  # newest first
    mine = workers[1]
    assert list(mine) == ["name", "last_active", "started", "state", "first_task_display_name",
                          "num_unread_rpc_messages", "host", "first_task", "num_running", "num_pending",
                          "num_uniques", "running"]
    assert mine["first_task_display_name"] == "Fam(p=1)"
    assert (mine["num_running"], mine["num_pending"], mine["num_uniques"]) == (1, 1, 0)
    assert set(mine["running"]) == {"A"}
    assert "num_running" not in sch.worker_list(include_running=False)[0]


def test_resource_list(make_scheduler):
    sch = make_scheduler(resources={"db": 3, "cpu": 1})
    sch.add_task(worker=W, task_id="A", resources={"db": 2})
    sch.get_work(worker=W)
    listed = {r["name"]: r for r in sch.resource_list()}
    assert listed["db"]["num_total"] == 3 and listed["db"]["num_used"] == 2
    assert listed["db"]["num_consumer"] == 1 and set(listed["db"]["running"]) == {"A"}
    assert listed["cpu"]["num_used"] == 0 and listed["cpu"]["running"] == {}


def test_task_search_and_fetch_error(sch):
    sch.add_task(worker=W, task_id="Find_me", family="Find", params={"x": "1"}, module="m")
    sch.add_task(worker=W, task_id="Other", status=FAILED, expl='"oops"')
    assert set(sch.task_search("ind_")["PENDING"]) == {"Find_me"}
    assert sch.task_search("find") == {}
    assert sch.fetch_error("Other")["error"] == '"oops"'
    assert sch.fetch_error("Find_me") == {"taskId": "Find_me", "error": None, "displayName": "Find(x=1)",
                                          "taskParams": {"x": "1"}, "taskModule": "m", "taskFamily": "Find"}
    assert sch.fetch_error("nope") == {"taskId": "nope", "error": ""}


def test_status_messages_progress_and_scheduler_messages(sch):
    sch.add_task(worker=W, task_id="A")
    sch.set_task_status_message("A", "working")
    sch.set_task_progress_percentage("A", 50)
    assert sch.get_task_status_message("A") == {"taskId": "A", "statusMessage": "working"}
    assert sch.get_task_progress_percentage("A") == {"taskId": "A", "progressPercentage": 50}
    assert sch.get_task_status_message("x") == {"taskId": "x", "statusMessage": ""}
    assert sch.get_task_progress_percentage("x") == {"taskId": "x", "progressPercentage": None}
    message_id = sch.send_scheduler_message(W, "A", "hello")["message_id"]
    sch.set_worker_processes(W, 3)
    assert sch.ping(worker=W) == {"rpc_messages": [
        {"name": "dispatch_scheduler_message", "kwargs": {"task_id": "A", "message_id": message_id,
                                                          "content": "hello"}},
        {"name": "set_worker_processes", "kwargs": {"n": 3}}]}
    sch.add_scheduler_message_response("A", message_id, "hi")
    assert sch.get_scheduler_message_response("A", message_id) == {"response": "hi"}
    assert sch.get_scheduler_message_response("A", message_id) == {"response": None}


def test_has_task_history_and_update_resources(sch):
    assert sch.has_task_history() is False
    sch.update_resources(a=2, b=3)
    assert sch._resources == {"a": 2, "b": 3}


def test_shared_upstream_table_reaggregates_in_progress_nodes(sch):
    sch.add_task(worker=W, task_id="T5", status="DISABLED")
    sch.add_task(worker=W, task_id="T4", status="UNKNOWN", deps=["T5"])
    sch.add_task(worker=W, task_id="T0", deps=["T4"])
    sch.add_task(worker=W, task_id="T2", deps=["T4", "T5"])
    assert sch._upstream_status("T0", {}) == ""  # an UNKNOWN dep is a leaf
    table = {}
    assert sch._upstream_status("T2", table) == UPSTREAM_DISABLED
    assert sch._upstream_status("T0", table) == UPSTREAM_DISABLED  # as Luigi, via the shared table
