"""Small building blocks of luigi.worker: helpers, completion checks, config, identity."""

from __future__ import annotations

import datetime
import queue

import pytest

import luigi
import luigi.worker as w
from tests.worker.conftest import make_worker


class Plain(luigi.Task):
    x = luigi.IntParameter(default=0)


def test_get_work_response_fields():
    assert w.GetWorkResponse._fields == (
        "task_id",
        "running_tasks",
        "n_pending_tasks",
        "n_unique_pending",
        "n_pending_last_scheduled",
        "worker_state",
    )


def test_deque_queue_is_lifo_and_raises_empty():
    q = w.DequeQueue()
    q.put(1)
    q.put(2)
    assert q.get() == 2
    assert q.get() == 1
    with pytest.raises(queue.Empty):
        q.get()


def test_single_process_pool_runs_synchronously():
    pool = w.SingleProcessPool()
    assert pool.apply_async(lambda a, b: a + b, (2, 3)) == 5
    pool.close()
    pool.join()


def test_async_completion_exception_keeps_trace():
    ex = w.AsyncCompletionException("trace text")
    assert ex.trace == "trace text" and str(ex) == "trace text"  # as in Luigi 3.8.1
    assert w.TracebackWrapper("t").trace == "t"


def test_check_complete_cached_stores_only_positive_results():
    calls = []

    class C(luigi.Task):
        result = luigi.BoolParameter()

        def complete(self):
            calls.append(self.result)
            return self.result

    cache = {}
    assert w.check_complete_cached(C(result=False), cache) is False
    assert cache == {}
    yes = C(result=True)
    assert w.check_complete_cached(yes, cache) is True
    assert w.check_complete_cached(yes, cache) is True
    assert calls == [False, True]


def test_check_complete_puts_traceback_wrapper_on_error():
    class Broken(luigi.Task):
        def complete(self):
            raise ValueError("boom")

    out = w.DequeQueue()
    task = Broken()
    w.check_complete(task, out)
    got_task, value = out.get()
    assert got_task is task
    assert isinstance(value, w.TracebackWrapper) and "ValueError: boom" in value.trace


def test_is_external_and_retry_policy():
    class Ext(luigi.ExternalTask):
        pass

    assert w._is_external(Ext())
    assert not w._is_external(Plain())
    assert w._get_retry_policy_dict(Plain()) == {
        "retry_count": None,
        "disable_hard_timeout": None,
        "disable_window": None,
    }


def test_rpc_message_callback_marks_function():
    def f():
        return None

    assert w.rpc_message_callback(f) is f and f.is_rpc_message_callback is True
    assert w.Worker.set_worker_processes.is_rpc_message_callback
    assert w.Worker.dispatch_scheduler_message.is_rpc_message_callback


def test_worker_config_defaults():
    c = w.worker()
    assert (c.id, c.ping_interval, c.keep_alive, c.count_uniques, c.count_last_scheduled) == (
        "",
        1.0,
        False,
        False,
        False,
    )
    assert (c.wait_interval, c.wait_jitter, c.max_keep_alive_idle_duration) == (1.0, 5.0, datetime.timedelta(0))
    assert (c.max_reschedules, c.timeout, c.task_limit, c.retry_external_tasks) == (1, 0, None, False)
    assert (c.send_failure_email, c.no_install_shutdown_handler, c.check_unfulfilled_deps) == (True, False, True)
    assert (c.check_complete_on_run, c.force_multiprocessing, c.task_process_context, c.cache_task_completion) == (
        False,
        False,
        None,
        False,
    )


def test_worker_config_from_file_and_deprecated_section(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[worker]\nwait_interval = 0.5\n[core]\nworker-timeout = 7\n")
    luigi.configuration.get_config().reload()
    c = w.worker()
    assert c.wait_interval == 0.5 and c.timeout == 7


def test_constructor_asserts(sch):
    with pytest.raises(AssertionError, match=r"\[worker\] wait_interval must be positive"):
        make_worker(sch, wait_interval=0)
    with pytest.raises(AssertionError, match=r"\[worker\] wait_jitter must be equal or greater than zero"):
        make_worker(sch, wait_jitter=-1)


def test_worker_id_and_info(sch):
    wk = make_worker(sch)
    keys = [k for k, _ in wk._worker_info]
    assert keys[:5] == ["salt", "workers", "host", "username", "pid"]
    salt = dict(wk._worker_info)["salt"]
    assert salt.isdigit() and len(salt) >= 9
    assert wk._id == "Worker(" + ", ".join("{}={}".format(*kv) for kv in wk._worker_info) + ")"
    assert make_worker(sch, worker_id="explicit")._id == "explicit"
    assert make_worker(sch, id="from-config")._id == "from-config"


def test_unknown_worker_kwarg_is_rejected(sch):
    from luigi.parameter import UnknownParameterException

    with pytest.raises(UnknownParameterException, match="unknown parameter no_such_option"):
        make_worker(sch, no_such_option=1)


def test_default_scheduler_is_created():
    wk = w.Worker(no_install_shutdown_handler=True)
    from luigi.scheduler import Scheduler

    assert isinstance(wk._scheduler, Scheduler)


def test_scheduler_message_behaviour(sch):
    responses = []

    class Sch:
        def add_scheduler_message_response(self, *args):
            responses.append(args)

    msg = w.SchedulerMessage(Sch(), "T1", "m1", "terminate", extra=1)
    assert msg == "terminate" and str(msg) == "terminate" and msg.payload == {"extra": 1}
    msg.respond("ok")
    assert responses == [("T1", "m1", "ok")]


def test_task_status_reporter_is_picklable_with_a_real_scheduler():
    import pickle

    from luigi.scheduler import Scheduler

    r = w.TaskStatusReporter(Scheduler(), "T", "W", None)
    assert pickle.loads(pickle.dumps(r))._task_id == "T"


def test_task_status_reporter_calls():
    calls = []

    class Sch:
        def __getattr__(self, name):
            return lambda *a, **k: calls.append((name, a, k))

    r = w.TaskStatusReporter(Sch(), "T", "W", None)
    r.update_tracking_url("http://x")
    r.update_status_message("msg")
    r.update_progress_percentage(50)
    r.decrease_running_resources({"r": 1})
    r.report_task_statistics({"s": 1})
    assert calls == [
        ("add_task", (), {"task_id": "T", "worker": "W", "status": "RUNNING", "tracking_url": "http://x"}),
        ("set_task_status_message", ("T", "msg"), {}),
        ("set_task_progress_percentage", ("T", 50), {}),
        ("decrease_running_task_resources", ("T", {"r": 1}), {}),
        ("report_task_statistics", ("T", {"s": 1}), {}),
    ]


def test_forward_reporter_attributes_mapping():
    assert list(w.TaskProcess.forward_reporter_attributes.items()) == [
        ("update_tracking_url", "set_tracking_url"),
        ("update_status_message", "set_status_message"),
        ("update_progress_percentage", "set_progress_percentage"),
        ("decrease_running_resources", "decrease_running_resources"),
        ("scheduler_messages", "scheduler_messages"),
    ]


def test_task_process_timeout_rules():
    class WithTimeout(luigi.Task):
        worker_timeout = 0

    p = w.TaskProcess(WithTimeout(), "W", w.DequeQueue(), None, worker_timeout=30)
    assert p.worker_timeout == 0 and p.timeout_time is None and p.use_multiprocessing is False
    p = w.TaskProcess(Plain(), "W", w.DequeQueue(), None, worker_timeout=30)
    assert p.worker_timeout == 30 and p.timeout_time is not None and p.use_multiprocessing is True


def test_keep_alive_rules(sch):
    wk = make_worker(sch)
    r = w.GetWorkResponse(None, [], 3, 0, 0, "active")
    assert wk._keep_alive(r) is False
    wk._config.keep_alive = True
    assert wk._keep_alive(r) is True
    assert wk._keep_alive(r._replace(n_pending_tasks=0)) is False
    wk._config.count_uniques = True
    assert wk._keep_alive(r) is False
    assert wk._keep_alive(r._replace(n_unique_pending=1)) is True
    wk._config.count_last_scheduled = True
    assert wk._keep_alive(r._replace(n_unique_pending=1)) is False
    assert wk._keep_alive(r._replace(n_pending_last_scheduled=2)) is True
    wk._config.count_uniques = wk._config.count_last_scheduled = False
    wk._config.max_keep_alive_idle_duration = datetime.timedelta(seconds=60)
    wk._idle_since = datetime.datetime.now() - datetime.timedelta(seconds=120)
    assert wk._keep_alive(r) is False
    wk._idle_since = datetime.datetime.now()
    assert wk._keep_alive(r) is True
    wk._assistant = True
    assert wk._keep_alive(r._replace(n_pending_tasks=0)) is True
