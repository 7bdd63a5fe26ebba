"""Scale properties of the scheduler: per-event cost independent of fan-in, compact task records."""

from __future__ import annotations

import gc
import tracemalloc

from luigi.scheduler import DONE, Scheduler

W = "Worker(salt=1, workers=1, host=h, username=u, pid=1)"


class CountingSet(set):
    """A ``set`` that counts element probes and iterations, to observe O(fan-in) work."""

    probes = 0

    def __contains__(self, item: object) -> bool:
        CountingSet.probes += 1
        return super().__contains__(item)

    def __iter__(self):
        CountingSet.probes += len(self)
        return super().__iter__()


def test_leaf_status_changes_do_not_rescan_the_fan_in_roots_dependencies():
    sch = Scheduler(prune_on_get_work=True, record_task_history=False)
    leaves = [f"Leaf_{i}" for i in range(1_000)]
    sch.add_task(worker=W, task_id="Root", deps=leaves)
    root = sch._state.get_task("Root")
    root.deps = CountingSet(root.deps)
    for leaf in leaves:
        sch.add_task(worker=W, task_id=leaf)
    handed_out = []
    while (task_id := sch.get_work(worker=W, current_tasks=[])["task_id"]) is not None:
        handed_out.append(task_id)
        sch.add_task(worker=W, task_id=task_id, status=DONE, runnable=None, new_deps=[], expl="null")
    assert handed_out[-1] == "Root" and len(handed_out) == len(leaves) + 1
    assert CountingSet.probes < 10 * len(leaves)  # a rescan per leaf event would be 1,000 x 1,000


def test_task_records_stay_under_two_kilobytes_each():
    """The issue's budget for the central scheduler: < 2 KB per task (indexes included)."""
    count = 5_000
    ids = [f"Leaf_{i}_0123456789" for i in range(count)]
    params = [{"i": str(i)} for i in range(count)]
    sch = Scheduler(prune_on_get_work=True, record_task_history=False)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        sch.add_task(worker=W, task_id="Root", deps=ids, family="Root")
        for task_id, task_params in zip(ids, params, strict=True):
            sch.add_task(worker=W, task_id=task_id, family="Leaf", params=task_params, deps=[], module="m")
        gc.collect()
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert used / count < 2_000
