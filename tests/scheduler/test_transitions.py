"""Status transitions driven through add_task and the manual operations (spec §11-12)."""

from __future__ import annotations

from unittest import mock

import pytest

from luigi.scheduler import DISABLED, DONE, FAILED, PENDING, RUNNING, UNKNOWN

W = "worker-1"
OTHER = "worker-2"


def status(sch, task_id):
    return sch._state.get_task(task_id).status


def start(sch, task_id, worker=W):
    sch.add_task(worker=worker, task_id=task_id)
    reply = sch.get_work(worker=worker)
    assert reply["task_id"] == task_id
    return reply


def test_new_task_is_pending_and_deps_become_unknown_placeholders(sch):
    sch.add_task(worker=W, task_id="A", deps=["B"], family="A", priority=3)
    assert status(sch, "A") == PENDING
    dep = sch._state.get_task("B")
    assert dep.status == UNKNOWN and dep.stakeholders == {W} and dep.priority == 3 and dep.family == ""


def test_only_the_running_worker_can_finish_a_running_task(sch):
    start(sch, "A")
    for reported in (PENDING, DONE, FAILED):
        sch.add_task(worker=OTHER, task_id="A", status=reported)
        assert status(sch, "A") == RUNNING
    sch.add_task(worker=W, task_id="A", status=DONE)
    assert status(sch, "A") == DONE


def test_running_task_reporting_new_deps_goes_back_to_pending(sch):
    start(sch, "A")
    sch.add_task(worker=W, task_id="A", status=PENDING, new_deps=["B"])
    task = sch._state.get_task("A")
    assert task.status == PENDING and task.deps == {"B"}


def test_failures_in_window_disable_the_task_and_send_one_email(sch):
    with mock.patch("luigi.scheduler.notifications.send_error_email") as send:
        for _ in range(3):
            sch.add_task(worker=W, task_id="A", status=FAILED)
        task = sch._state.get_task("A")
        assert task.status == DISABLED and task.scheduler_disable_time is not None
        send.assert_called_once_with(
            "Luigi Scheduler: DISABLED A due to excessive failures",
            "A failed 3 times in the last 10 seconds, so it is being disabled for 10 seconds")


def test_failures_outside_window_do_not_disable(sch, clock):
    for _ in range(5):
        sch.add_task(worker=W, task_id="A", status=FAILED)
        clock.advance(6)
    assert status(sch, "A") == FAILED


def test_task_retry_policy_overrides_config(sch):
    policy = {"retry_count": 1, "disable_hard_timeout": None, "disable_window": None}
    sch.add_task(worker=W, task_id="A", status=FAILED, retry_policy_dict=policy)
    assert status(sch, "A") == FAILED  # the policy of a call applies from the next report on
    sch.add_task(worker=W, task_id="A", status=FAILED, retry_policy_dict=policy)
    assert status(sch, "A") == DISABLED


def test_hard_timeout_disables_even_a_first_failure_in_the_window(make_scheduler, clock):
    sch = make_scheduler(disable_hard_timeout=50, retry_count=100, disable_window=10)
    sch.add_task(worker=W, task_id="A", status=FAILED)
    clock.advance(60)
    sch.add_task(worker=W, task_id="A", status=FAILED)
    assert status(sch, "A") == DISABLED


def test_scheduler_disable_ignores_reports_except_done(sch):
    for _ in range(3):
        sch.add_task(worker=W, task_id="A", status=FAILED)
    for reported in (PENDING, FAILED, RUNNING):
        sch.add_task(worker=W, task_id="A", status=reported)
        assert status(sch, "A") == DISABLED
    sch.add_task(worker=W, task_id="A", status=DONE)
    task = sch._state.get_task("A")
    assert task.status == DONE and task.scheduler_disable_time is None and not task.failures


def test_worker_disable_is_permanent_but_overridable_and_not_counted(sch):
    sch.add_task(worker=W, task_id="A", status=DISABLED)
    assert sch._state.get_task("A").scheduler_disable_time is None
    assert sch.re_enable_task("A") == {}
    sch.add_task(worker=W, task_id="A", status=FAILED)
    task = sch._state.get_task("A")
    assert task.status == FAILED and len(task.failures) == 0


def test_re_enable_task_turns_scheduler_disable_into_failed(sch, clock):
    for _ in range(3):
        sch.add_task(worker=W, task_id="A", status=FAILED)
    serialized = sch.re_enable_task("A")
    assert serialized["status"] == FAILED and serialized["deps"] == []
    task = sch._state.get_task("A")
    assert task.retry == clock.now + 100 and not task.failures


def test_stable_done_cooldown_ignores_pending_reports(make_scheduler, clock):
    sch = make_scheduler(stable_done_cooldown_secs=10)
    sch.add_task(worker=W, task_id="A", status=DONE)
    clock.advance(5)
    sch.add_task(worker=OTHER, task_id="A", status=PENDING, priority=9)
    task = sch._state.get_task("A")
    assert task.status == DONE and OTHER not in task.stakeholders and task.priority == 0
    clock.advance(6)
    sch.add_task(worker=OTHER, task_id="A", status=PENDING)
    assert status(sch, "A") == PENDING


def test_failed_task_reported_pending_is_retried_immediately(sch):
    sch.add_task(worker=W, task_id="A", status=FAILED)
    sch.add_task(worker=W, task_id="A", status=PENDING)
    assert status(sch, "A") == PENDING


def test_suspended_is_stored_as_pending(sch):
    start(sch, "A")
    sch.add_task(worker=W, task_id="A", status="SUSPENDED")
    assert status(sch, "A") == RUNNING  # gate: a running task ignores PENDING-like reports
    sch.add_task(worker=W, task_id="B", status="SUSPENDED")
    assert status(sch, "B") == PENDING


def test_forgive_failures_and_mark_as_done(sch):
    assert sch.forgive_failures("nope") == {"task_id": "nope", "status": None}
    sch.add_task(worker=W, task_id="A", status=FAILED)
    assert sch.forgive_failures("A") == {"task_id": "A", "status": PENDING}
    assert sch.mark_as_done("A") == {"task_id": "A", "status": PENDING}  # PENDING is not eligible
    sch.add_task(worker=W, task_id="A", status=FAILED)
    assert sch.mark_as_done("A") == {"task_id": "A", "status": DONE}


def test_fields_reset_by_calls_that_omit_them(sch):
    sch.add_task(worker=W, task_id="A", resources={"r": 1}, accepts_messages=True, tracking_url="http://x")
    sch.add_task(worker=W, task_id="A")
    task = sch._state.get_task("A")
    assert task.resources == {} and task.accepts_messages is False and task.tracking_url is None


def test_runnable_false_and_failed_reports_do_not_offer_the_worker(sch):
    sch.add_task(worker=W, task_id="A", runnable=False)
    sch.add_task(worker=OTHER, task_id="A", status=FAILED)
    task = sch._state.get_task("A")
    assert list(task.workers) == [] and task.stakeholders == {W, OTHER} and not task.runnable


def test_disabled_worker_may_only_report_on_running_tasks(sch):
    start(sch, "A")
    sch.disable_worker(W)
    sch.add_task(worker=W, task_id="New")
    assert not sch._state.has_task("New")
    sch.add_task(worker=W, task_id="A", status=DONE)
    assert status(sch, "A") == DONE


@pytest.mark.parametrize("bad", [True, -1, 1.5, "3"])
def test_update_resource_rejects_non_ints(sch, bad):
    assert sch.update_resource("r", bad) is False
    assert sch.update_resource("r", 3) is True and sch._resources["r"] == 3


def test_repeated_report_of_a_parent_recreates_a_removed_dependency_and_raises_priorities(sch, clock):
    sch.add_task(worker=W, task_id="Root", status=PENDING, deps=["A", "B"], priority=1)
    sch.add_task(worker=W, task_id="A", status=PENDING, priority=1)
    # B's record goes away (its removal was scheduled and is now due); the next report of the
    # parent, without deps, must bring the placeholder back as Luigi does
    b = sch._state.get_task("B")
    sch._state.set_remove(b, clock.now)
    sch.prune()
    assert sch._state.get_task("B") is None
    sch.add_task(worker=W, task_id="Root", status=PENDING, priority=1)
    assert sch._state.get_task("B").status == UNKNOWN and sch._state.get_task("B").stakeholders == {W}
    # a higher priority on a repeated report still reaches every dependency
    sch.add_task(worker=W, task_id="Root", status=PENDING, priority=5)
    assert [sch._state.get_task(t).priority for t in ("Root", "A", "B")] == [5, 5, 5]


def test_stakeholder_reporting_again_after_another_worker_changed_the_deps_reaches_the_new_deps(sch):
    sch.add_task(worker=W, task_id="Root", status=PENDING, deps=["A"])
    sch.add_task(worker=OTHER, task_id="Root", status=PENDING, deps=["A", "B"])
    assert sch._state.get_task("B").stakeholders == {OTHER}
    sch.add_task(worker=W, task_id="Root", status=PENDING)  # no deps sent: Luigi walks them again
    assert sch._state.get_task("B").stakeholders == {W, OTHER}


def test_worker_that_timed_out_and_returns_becomes_a_stakeholder_of_the_deps_again(sch, clock):
    sch.add_task(worker=W, task_id="Root", status=PENDING, deps=["A"])
    clock.advance(60)  # longer than worker_disconnect_delay: the worker is pruned with its stakes
    sch.prune()
    assert sch._state.get_task("A").stakeholders == set()
    sch.add_task(worker=W, task_id="Root", status=PENDING)
    assert sch._state.get_task("A").stakeholders == {W}


def test_deps_added_by_an_assistant_still_get_the_stakeholder_that_reports_next(sch):
    sch.add_task(worker=W, task_id="Root", status=PENDING, deps=["A"])
    sch.add_task(worker="assistant", task_id="Root", status=PENDING, deps=["A", "B"], assistant=True)
    sch.add_task(worker=W, task_id="Root", status=PENDING)
    assert W in sch._state.get_task("B").stakeholders
