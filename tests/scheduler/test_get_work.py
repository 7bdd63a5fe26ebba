"""Work selection (spec §16-18): priorities, resources, assistants, batching, lost tasks."""

from __future__ import annotations

import hashlib

from luigi.scheduler import BATCH_RUNNING, DONE, FAILED, PENDING, RUNNING

W = "worker-1"
OTHER = "worker-2"


def task_of(reply):
    return reply["task_id"]


def test_empty_reply_keys(sch):
    reply = sch.get_work(worker=W, host="h")
    assert reply == {"n_pending_tasks": 0, "n_unique_pending": 0, "n_pending_last_scheduled": 0,
                     "worker_state": "active", "running_tasks": [], "task_id": None}
    assert sch._state.get_worker(W).reference == {"host": "h"}


def test_single_task_reply(sch):
    sch.add_task(worker=W, task_id="A", family="Fam", module="mod", params={"x": "1"})
    reply = sch.get_work(worker=W, host="h")
    assert reply == {"n_pending_tasks": 1, "n_unique_pending": 1, "n_pending_last_scheduled": 1,
                     "worker_state": "active", "running_tasks": [], "task_id": "A", "task_family": "Fam",
                     "task_module": "mod", "task_params": {"x": "1"}}
    task = sch._state.get_task("A")
    assert (task.status, task.worker_running, task.resources_running) == (RUNNING, W, {})


def test_dependencies_must_be_done(sch):
    sch.add_task(worker=W, task_id="A", deps=["B"])
    sch.add_task(worker=W, task_id="B", deps=["C"])
    assert task_of(sch.get_work(worker=W)) is None  # C unknown to the scheduler blocks B
    sch.add_task(worker=W, task_id="C")
    assert task_of(sch.get_work(worker=W)) == "C"
    sch.add_task(worker=W, task_id="C", status=DONE)
    assert task_of(sch.get_work(worker=W)) == "B"
    sch.add_task(worker=W, task_id="B", status=DONE)
    assert task_of(sch.get_work(worker=W)) == "A"


def test_priority_then_age_then_order(sch, clock):
    sch.add_task(worker=W, task_id="old-low", priority=0)
    clock.advance(1)
    sch.add_task(worker=W, task_id="new-high", priority=5)
    clock.advance(1)
    sch.add_task(worker=W, task_id="newer-low", priority=0)
    order = []
    for _ in range(3):
        reply = sch.get_work(worker=W)
        order.append(task_of(reply))
        sch.add_task(worker=W, task_id=reply["task_id"], status=DONE)
    assert order == ["new-high", "old-low", "newer-low"]


def drain(sch):
    order = []
    while (task_id := task_of(sch.get_work(worker=W))) is not None:
        order.append(task_id)
        sch.add_task(worker=W, task_id=task_id, status=DONE)
    return order


def test_equal_priority_dependencies_run_in_creation_order(make_scheduler):
    """Like Luigi 3.8.1: each dependency placeholder reads the clock when the parent is reported, so
    equal-priority deps are handed out earliest-created first, not in the order the worker later
    reported them (a depth-first worker reports them last-first)."""
    ticks = iter(range(1_000_000, 2_000_000))
    sch = make_scheduler(clock=lambda: float(next(ticks)))
    leaves = [f"L{i}" for i in range(8)]
    sch.add_task(worker=W, task_id="Root", deps=leaves)
    created = sorted(leaves, key=lambda leaf: sch._state.get_task(leaf).time)
    assert len({sch._state.get_task(leaf).time for leaf in leaves}) == len(leaves)
    for leaf in reversed(created):
        sch.add_task(worker=W, task_id=leaf)
    assert drain(sch) == created + ["Root"]


def test_equal_priority_and_time_run_in_report_order(sch):
    for task_id in ["B", "D", "A", "C"]:
        sch.add_task(worker=W, task_id=task_id)
    assert drain(sch) == ["B", "D", "A", "C"]


def test_priority_propagates_to_known_dependencies(sch):
    sch.add_task(worker=W, task_id="D", priority=1)
    sch.add_task(worker=W, task_id="Low", priority=2)
    sch.add_task(worker=W, task_id="High", deps=["D"], priority=10)
    assert sch._state.get_task("D").priority == 10
    assert task_of(sch.get_work(worker=W)) == "D"
    sch.add_task(worker=W, task_id="High", deps=["D"], priority=1)
    assert sch._state.get_task("High").priority == 10  # never decreases


def test_other_workers_tasks_are_not_handed_out(sch):
    sch.add_task(worker=OTHER, task_id="A")
    assert task_of(sch.get_work(worker=W)) is None
    assert task_of(sch.get_work(worker=OTHER)) == "A"


def test_resources_limit_concurrency(make_scheduler):
    sch = make_scheduler(resources={"db": 1})
    sch.add_task(worker=W, task_id="A", resources={"db": 1})
    sch.add_task(worker=W, task_id="B", resources={"db": 1})
    assert task_of(sch.get_work(worker=W)) == "A"
    assert task_of(sch.get_work(worker=W)) is None
    sch.add_task(worker=W, task_id="A", status=DONE)
    assert task_of(sch.get_work(worker=W)) == "B"


def test_unconfigured_resources_have_capacity_one(make_scheduler):
    sch = make_scheduler(resources={"other": 5})
    sch.add_task(worker=W, task_id="A", resources={"x": 1})
    sch.add_task(worker=W, task_id="B", resources={"x": 1})
    sch.add_task(worker=W, task_id="C", resources={"x": 2})
    assert task_of(sch.get_work(worker=W)) == "A"
    assert task_of(sch.get_work(worker=W)) is None


def test_decreasing_running_resources_frees_capacity(make_scheduler):
    sch = make_scheduler(resources={"db": 2})
    sch.add_task(worker=W, task_id="A", resources={"db": 2})
    sch.add_task(worker=W, task_id="B", resources={"db": 1})
    assert task_of(sch.get_work(worker=W)) == "A"
    assert task_of(sch.get_work(worker=W)) is None
    sch.decrease_running_task_resources("A", {"db": 1})
    assert sch.get_running_task_resources("A") == {"taskId": "A", "resources": {"db": 1}}
    assert sch._state.get_task("A").resources == {"db": 2}
    assert task_of(sch.get_work(worker=W)) == "B"


def test_greedy_reservation_protects_higher_priority_work_of_other_workers(make_scheduler):
    sch = make_scheduler(resources={"r": 1})
    sch.add_task(worker=OTHER, task_id="High", resources={"r": 1}, priority=10)
    sch.add_task(worker=W, task_id="Low", resources={"r": 1}, priority=0)
    sch.get_work(worker=OTHER)  # OTHER asked recently -> counts as an active worker
    sch.add_task(worker=OTHER, task_id="High", status=DONE)
    sch.add_task(worker=OTHER, task_id="High2", resources={"r": 1}, priority=10)
    assert task_of(sch.get_work(worker=W)) is None  # r is reserved for OTHER's High2
    assert task_of(sch.get_work(worker=OTHER)) == "High2"


def test_greedy_reservation_ignores_workers_without_recent_get_work(make_scheduler):
    sch = make_scheduler(resources={"r": 1})
    sch.add_task(worker=OTHER, task_id="High", resources={"r": 1}, priority=10)
    sch.add_task(worker=W, task_id="Low", resources={"r": 1})
    assert task_of(sch.get_work(worker=W)) == "Low"


def test_assistant_runs_runnable_tasks_of_others(sch):
    sch.add_task(worker=OTHER, task_id="A")
    sch.add_task(worker=OTHER, task_id="NotRunnable", runnable=False)
    reply = sch.get_work(worker="assistant", assistant=True)
    assert task_of(reply) == "A"
    assert sch._state.get_worker("assistant").info == {"assistant": True}
    assert task_of(sch.get_work(worker="assistant", assistant=True)) is None


def test_assistant_reports_do_not_make_stakeholders(sch):
    sch.add_task(worker="assistant", task_id="A", deps=["B"], assistant=True)
    task = sch._state.get_task("A")
    assert task.stakeholders == set() and list(task.workers) == ["assistant"]
    assert not sch._state.has_task("B")


def test_pause_stops_new_work(sch):
    sch.add_task(worker=W, task_id="A")
    assert sch.is_pause_enabled() == {"enabled": True}
    sch.pause()
    assert sch.is_paused() == {"paused": True}
    assert task_of(sch.get_work(worker=W)) is None
    sch.unpause()
    assert task_of(sch.get_work(worker=W)) == "A"


def test_pause_disabled_by_config(make_scheduler):
    sch = make_scheduler(pause_enabled=False)
    sch.pause()
    assert sch.is_paused() == {"paused": False}


def test_disabled_worker_gets_fixed_reply(sch):
    sch.add_task(worker=W, task_id="A")
    sch.disable_worker(W)
    assert sch.get_work(worker=W) == {"n_pending_tasks": 0, "running_tasks": [], "task_id": None,
                                      "n_unique_pending": 0, "worker_state": "disabled"}
    assert list(sch._state.get_task("A").workers) == []
    assert sch._state.get_task("A").stakeholders == {W}


def test_lost_task_is_resent(sch):
    sch.add_task(worker=W, task_id="A")
    sch.add_task(worker=W, task_id="B")
    first = task_of(sch.get_work(worker=W))
    reply = sch.get_work(worker=W, current_tasks=[])
    assert task_of(reply) == first
    other = task_of(sch.get_work(worker=W, current_tasks=[first]))
    assert {first, other} == {"A", "B"}


def test_count_pending_and_running_tasks(sch):
    sch.add_worker(OTHER, [("host", "h2")])
    sch.add_task(worker=W, task_id="A")
    sch.add_task(worker=OTHER, task_id="A")
    sch.add_task(worker=W, task_id="B")
    sch.add_task(worker=W, task_id="C")
    sch.add_task(worker=W, task_id="C", status=FAILED)  # failed tasks still count as pending
    sch.get_work(worker=OTHER)
    counts = sch.count_pending(W)
    assert counts == {"n_pending_tasks": 2, "n_unique_pending": 2, "n_pending_last_scheduled": 2,
                      "worker_state": "active", "running_tasks": [{"task_id": "A", "worker": OTHER, "host": "h2"}]}
    sch.add_task(worker=OTHER, task_id="B")
    counts = sch.count_pending(W)
    assert (counts["n_pending_tasks"], counts["n_unique_pending"], counts["n_pending_last_scheduled"]) == (2, 1, 1)


def test_count_pending_skips_tasks_blocked_by_disabled(sch):
    sch.add_task(worker=W, task_id="A", deps=["B"])
    sch.add_task(worker=W, task_id="B", deps=["C"])
    sch.add_task(worker=W, task_id="C", status="DISABLED")
    assert sch.count_pending(W)["n_pending_tasks"] == 0
    sch.add_task(worker=W, task_id="C", status=DONE)
    assert sch.count_pending(W)["n_pending_tasks"] == 2


def _register_batcher(sch, max_batch_size=float("inf")):
    sch.add_task_batcher(worker=W, task_family="B", batched_args=["d"], max_batch_size=max_batch_size)


def test_batch_dispatch_and_completion(sch):
    _register_batcher(sch)
    for day in ("1", "2", "3"):
        sch.add_task(worker=W, task_id=f"B_{day}", family="B", params={"d": day, "k": "x"}, batchable=True)
    sch.add_task(worker=W, task_id="B_other", family="B", params={"d": "9", "k": "y"}, batchable=True)
    reply = sch.get_work(worker=W)
    ids = ["B_1", "B_2", "B_3"]
    assert reply["task_id"] is None and reply["batch_task_ids"] == ids
    assert reply["batch_id"] == hashlib.md5("|".join(ids).encode("utf-8")).hexdigest()
    assert reply["task_params"] == {"d": ["1", "2", "3"], "k": "x"}
    assert all(sch._state.get_task(i).status == BATCH_RUNNING for i in ids)

    batch_id = reply["batch_id"]
    sch.add_task(worker=W, task_id="B_combined", family="B", params={"d": "1-3", "k": "x"}, status=RUNNING,
                 batch_id=batch_id)
    sch.set_task_status_message("B_combined", "half way")
    assert sch.get_task_status_message("B_2") == {"taskId": "B_2", "statusMessage": "half way"}
    sch.add_task(worker=W, task_id="B_combined", status=DONE)
    assert all(sch._state.get_task(i).status == DONE and sch._state.get_task(i).batch_id is None for i in ids)


def test_batch_failure_fails_members_and_removes_unbatchable_representative(sch, clock):
    _register_batcher(sch)
    for day in ("1", "2"):
        sch.add_task(worker=W, task_id=f"B_{day}", family="B", params={"d": day}, batchable=True)
    batch_id = sch.get_work(worker=W)["batch_id"]
    sch.add_task(worker=W, task_id="Rep", family="B", params={"d": "1-2"}, status=RUNNING, batch_id=batch_id)
    sch.add_task(worker=W, task_id="Rep", status=FAILED, expl="boom")
    assert sch._state.get_task("B_1").status == FAILED and sch._state.get_task("B_1").expl == "boom"
    sch.prune()
    assert not sch._state.has_task("Rep")


def test_batch_size_limit(sch):
    _register_batcher(sch, max_batch_size=2)
    for day in ("1", "2", "3"):
        sch.add_task(worker=W, task_id=f"B_{day}", family="B", params={"d": day}, batchable=True)
    assert sch.get_work(worker=W)["batch_task_ids"] == ["B_1", "B_2"]
    assert task_of(sch.get_work(worker=W)) == "B_3"  # a batch of one is a normal task


def test_orphaned_batch_members_return_to_pending(sch):
    _register_batcher(sch)
    for day in ("1", "2"):
        sch.add_task(worker=W, task_id=f"B_{day}", family="B", params={"d": day}, batchable=True)
    sch.get_work(worker=W)
    sch.pause()  # so the reset members are not batched again by the same call
    sch.get_work(worker=W, current_tasks=[])
    assert sch._state.get_task("B_1").status == PENDING


def test_batch_members_running_count_resources_once(make_scheduler):
    sch = make_scheduler(resources={"r": 1})
    sch.add_task_batcher(worker=W, task_family="B", batched_args=["d"])
    for day in ("1", "2"):
        sch.add_task(worker=W, task_id=f"B_{day}", family="B", params={"d": day}, batchable=True,
                     resources={"r": 1})
    batch_id = sch.get_work(worker=W)["batch_id"]
    sch.add_task(worker=W, task_id="Rep", family="B", params={"d": "1,2"}, status=RUNNING, batch_id=batch_id,
                 resources={"r": 1})
    assert sch._state.get_task("Rep").resources_running == {"r": 1}
    assert sch.resources() == {"r": {"total": 1, "used": 1}}


def test_saturated_resource_does_not_scan_every_waiting_task(make_scheduler):
    sch = make_scheduler(resources={"db": 1})
    for i in range(2000):
        sch.add_task(worker=W, task_id=f"T{i:04d}", resources={"db": 1})
    sch.add_task(worker=W, task_id="free")
    assert task_of(sch.get_work(worker=W)) == "T0000"
    calls = []
    original = sch._has_resources
    sch._has_resources = lambda needed, used: calls.append(needed) or original(needed, used)
    assert task_of(sch.get_work(worker=W)) == "free"  # the db tasks wait, the free task runs
    assert task_of(sch.get_work(worker=W)) is None
    assert len(calls) < 20
    sch.add_task(worker=W, task_id="T0000", status=DONE)
    assert task_of(sch.get_work(worker=W)) == "T0001"
