"""Property test: after any sequence of RPC calls the incremental indexes equal a from-scratch rebuild,
and get_work/count_pending agree with a brute-force reading of the task records."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from luigi._scheduler.index import StateIndex
from luigi.scheduler import DONE, FAILED, PENDING, UPSTREAM_DISABLED, Scheduler

from .conftest import FakeClock

TASKS = [f"T{i}" for i in range(6)]
WORKERS = ["w0", "w1", "w2"]
STATUSES = [PENDING, PENDING, PENDING, DONE, FAILED, "RUNNING", "DISABLED", "UNKNOWN"]

add_task = st.builds(
    lambda worker, task, status, deps, priority, runnable, assistant: (
        "add_task", dict(worker=worker, task_id=task, status=status, deps=deps, priority=priority,
                         runnable=runnable, assistant=assistant, family="F")),
    st.sampled_from(WORKERS), st.sampled_from(TASKS), st.sampled_from(STATUSES),
    st.one_of(st.none(), st.lists(st.sampled_from(TASKS), max_size=3)), st.integers(0, 3), st.booleans(),
    st.sampled_from([False, False, False, True]))
get_work = st.builds(lambda worker, lost: ("get_work", dict(worker=worker, current_tasks=[] if lost else None)),
                     st.sampled_from(WORKERS), st.booleans())
other = st.one_of(
    st.builds(lambda seconds: ("advance", seconds), st.sampled_from([1, 30, 200, 2000])),
    st.just(("prune", {})),
    st.builds(lambda w: ("disable_worker", dict(worker=w)), st.sampled_from(WORKERS)),
    st.builds(lambda w: ("ping", dict(worker=w)), st.sampled_from(WORKERS)),
    st.builds(lambda t: ("forgive_failures", dict(task_id=t)), st.sampled_from(TASKS)),
    st.builds(lambda t: ("mark_as_done", dict(task_id=t)), st.sampled_from(TASKS)),
    st.builds(lambda t: ("re_enable_task", dict(task_id=t)), st.sampled_from(TASKS)),
)
operations = st.lists(st.one_of(add_task, add_task, get_work, other), max_size=40)


def rebuilt_index(state) -> StateIndex:
    fresh = StateIndex(state._tasks, type(state._status_tasks)(dict))
    for status in list(state._status_tasks):
        for task in list(state._status_tasks[status].values()):
            fresh.refresh(task)
    return fresh


def slot_view(slot):
    if slot is None:
        return {}, set(), set(), {}, {}, 0, set(), set(), set()
    return ({k: v for k, v in slot.counts.items() if v}, set(slot.offered), set(slot.offered_running),
            {k: v for k, v in slot.unique.items() if v},
            {k: v for k, v in slot.last.items() if v}, slot.res_pending, set(slot.running), set(slot.batch_running),
            slot.stakes)


def assert_index_matches_rebuild(state):
    live, fresh = state._index, rebuilt_index(state)
    assert {s: set(d) for s, d in live.status_tasks.items() if d} == {s: set(d) for s, d in fresh.status_tasks.items() if d}
    for task in state._tasks.values():
        assert task.id in live.status_tasks[task.status]
    assert {k: v for k, v in live.rdeps.items() if v} == fresh.rdeps
    assert {t: live.unready.get(t, 0) for t in state._tasks} == {t: fresh.unready.get(t, 0) for t in state._tasks}
    assert {t for t in state._tasks if live.snaps[t].ready} == {t for t in state._tasks if fresh.snaps[t].ready}
    for worker_id in set(live.workers) | set(fresh.workers):
        a, b = live.workers.get(worker_id), fresh.workers.get(worker_id)
        assert slot_view(a) == slot_view(b), worker_id
    assert {k: set(v) for k, v in live.batches.items() if v} == {k: set(v) for k, v in fresh.batches.items() if v}


def brute_force_pending(sch, worker_id):
    pending, unique, last = 0, 0, 0
    for task in sch._state._tasks.values():
        if task.status in (PENDING, FAILED) and worker_id in task.workers:
            if task.status == PENDING and sch._upstream_status(task.id, {}) == UPSTREAM_DISABLED:
                continue
            pending += 1
            unique += len(task.workers) == 1
            last += task.workers.peek() == worker_id
    return pending, unique, last


def brute_force_choice(sch, worker_id):
    candidates = [t for t in sch._state._tasks.values() if worker_id in t.workers and sch._schedulable(t)]
    if not candidates:
        return None
    seq = {t.id: sch._state._index.snaps[t.id].seq for t in candidates}
    return max(candidates, key=lambda t: (t.priority, -t.time, -seq[t.id])).id


def _report(worker, task, status, deps=None):
    return ("add_task", dict(worker=worker, task_id=task, status=status, deps=deps, priority=0, runnable=True,
                             assistant=False, family="F"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
@example([_report("w0", "T1", "DISABLED"), _report("w0", "T0", PENDING, ["T1"]), _report("w1", "T2", PENDING, ["T0"]),
          _report("w0", "T1", DONE), ("get_work", dict(worker="w0", current_tasks=None))])
def test_indexes_stay_consistent(ops):
    clock = FakeClock()
    sch = Scheduler(clock=clock, retry_delay=50, remove_delay=500, worker_disconnect_delay=100, disable_persist=100,
                    disable_window=100, retry_count=2, stable_done_cooldown_secs=0)
    for name, kwargs in ops:
        if name == "advance":
            clock.advance(kwargs)
            continue
        if name == "get_work" and kwargs["current_tasks"] is None and not sch._state.get_worker(kwargs["worker"]).disabled:
            expected = brute_force_choice(sch, kwargs["worker"])
            assert sch.get_work(**kwargs)["task_id"] == expected
        else:
            getattr(sch, name)(**kwargs)
        assert_index_matches_rebuild(sch._state)
        for worker_id in WORKERS:
            if worker_id in sch._state.get_worker_ids():
                reply = sch.count_pending(worker_id)
                assert (reply["n_pending_tasks"], reply["n_unique_pending"], reply["n_pending_last_scheduled"]) == \
                    brute_force_pending(sch, worker_id)
