"""Pruning with an injected clock (spec §15): worker timeouts, dead workers, retry, re-enable, removal."""

from __future__ import annotations

import time
from unittest import mock

from luigi.scheduler import DISABLED, DONE, FAILED, PENDING, RUNNING, Scheduler

W = "worker-1"
OTHER = "worker-2"


def test_silent_worker_is_pruned_and_its_running_task_fails(sch, clock):
    sch.add_task(worker=W, task_id="A")
    sch.get_work(worker=W)
    clock.advance(11)
    sch.prune()
    assert W not in sch._state.get_worker_ids()
    task = sch._state.get_task("A")
    assert task.status == FAILED and task.worker_running is None and task.stakeholders == set()
    assert task.retry == clock.now + 100 and len(task.failures) == 1


def test_pinging_worker_survives(sch, clock):
    sch.add_task(worker=W, task_id="A")
    sch.get_work(worker=W)
    for _ in range(5):
        clock.advance(8)
        sch.ping(worker=W)
        sch.prune()
    assert sch._state.get_task("A").status == RUNNING


def test_failed_task_becomes_pending_after_retry_delay(sch, clock):
    sch.add_task(worker=W, task_id="A", status=FAILED)
    clock.advance(99)
    sch.ping(worker=W)
    sch.prune()
    assert sch._state.get_task("A").status == FAILED
    clock.advance(2)
    sch.prune()
    assert sch._state.get_task("A").status == PENDING


def test_negative_retry_delay_never_retries(make_scheduler, clock):
    sch = make_scheduler(retry_delay=-1, worker_disconnect_delay=10**9)
    sch.add_task(worker=W, task_id="A", status=FAILED)
    clock.advance(10**6)
    sch.prune()
    assert sch._state.get_task("A").status == FAILED


def test_scheduler_disable_expires_after_disable_persist(sch, clock):
    for _ in range(3):
        sch.add_task(worker=W, task_id="A", status=FAILED)
    clock.advance(5)
    sch.ping(worker=W)
    sch.prune()
    assert sch._state.get_task("A").status == DISABLED
    clock.advance(6)
    sch.ping(worker=W)
    sch.prune()
    task = sch._state.get_task("A")
    assert task.status == FAILED and task.scheduler_disable_time is None and not task.failures


def test_orphaned_task_is_removed_after_remove_delay(sch, clock):
    sch.add_task(worker=W, task_id="A", deps=["B"])
    clock.advance(11)
    sch.prune()  # worker gone -> no stakeholders -> removal scheduled
    assert sch._state.get_task("A").remove == clock.now + 1000
    clock.advance(999)
    sch.prune()
    assert sch._state.has_task("A")
    clock.advance(2)
    sch.prune()
    assert not sch._state.has_task("A") and not sch._state.has_task("B")


def test_re_adding_rescues_a_task_from_removal(sch, clock):
    sch.add_task(worker=W, task_id="A", deps=["B"])
    clock.advance(11)
    sch.prune()
    sch.add_task(worker=OTHER, task_id="A", deps=["B"])
    assert sch._state.get_task("A").remove is None
    assert sch._state.get_task("B").remove is None  # referenced again: not pruned under the new worker
    clock.advance(1001)
    sch.ping(worker=OTHER)
    sch.prune()
    assert sch._state.has_task("A") and sch._state.has_task("B")


def test_running_task_without_stakeholders_is_not_scheduled_for_removal(sch, clock):
    sch.add_task(worker="assistant", task_id="A", assistant=True)
    sch.get_work(worker="assistant", assistant=True)
    sch.prune()
    task = sch._state.get_task("A")
    assert task.status == RUNNING and task.remove is None
    sch.add_task(worker="assistant", task_id="A", status=DONE, assistant=True)
    sch.prune()
    assert sch._state.get_task("A").remove == clock.now + 1000


def test_removal_makes_dependents_unschedulable_again(sch, clock):
    sch.add_task(worker=OTHER, task_id="Dep", status=DONE)
    clock.advance(11)
    sch.add_task(worker=W, task_id="A", deps=["Dep"])  # OTHER is gone by the next prune
    sch.prune()
    dep = sch._state.get_task("Dep")
    assert dep.stakeholders == {W} and dep.remove is None
    assert sch.get_work(worker=W)["task_id"] == "A"


def test_prune_on_get_work_for_local_scheduler(make_scheduler, clock):
    sch = make_scheduler(prune_on_get_work=True, retry_delay=5)
    sch.add_task(worker=W, task_id="A")
    sch.add_task(worker=W, task_id="A", status=FAILED)
    clock.advance(6)
    assert sch.get_work(worker=W)["task_id"] == "A"


def test_patching_time_time_drives_the_default_clock():
    with mock.patch("time.time", return_value=1000.0):
        sch = Scheduler(retry_delay=5, worker_disconnect_delay=10**6)
        sch.add_task(worker=W, task_id="A", status=FAILED)
        assert sch._state.get_task("A").retry == 1005.0
    with mock.patch("luigi.scheduler.time") as patched:
        patched.time.return_value = 1006.0
        sch.prune()
    assert sch._state.get_task("A").status == PENDING
    assert time.time() > 1006.0


def test_disable_worker_keeps_stakeholders_but_drops_offers(sch):
    sch.add_task(worker=W, task_id="A")
    sch.add_task(worker=OTHER, task_id="A")
    sch.disable_worker(W)
    task = sch._state.get_task("A")
    assert list(task.workers) == [OTHER] and task.stakeholders == {W, OTHER}
    assert sch._state.get_worker(W).tasks == set()
