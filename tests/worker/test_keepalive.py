"""Keep-alive thread, RPC messages, phasing out, context manager, get_work handling."""

from __future__ import annotations

import os
import signal
import threading
import time

import luigi
import luigi.worker as w
from tests.worker.conftest import make_worker


class Waiter(luigi.Task):
    def complete(self):
        return os.path.exists("released")

    def run(self):
        open("released", "w").close()


def test_keep_alive_thread_pings_and_dispatches():
    pinged = threading.Event()
    received = []

    class Sch:
        def ping(self, worker):
            pinged.set()
            return {"rpc_messages": [{"name": "x", "kwargs": {}}]}

    def callback(message):
        received.append(message)
        raise RuntimeError("callback errors must not kill the thread")

    t = w.KeepAliveThread(Sch(), "W", 0.01, callback)
    t.daemon = True
    t.start()
    assert pinged.wait(5)
    deadline = time.time() + 5
    while len(received) < 3 and time.time() < deadline:
        time.sleep(0.01)
    t.stop()
    t.join(5)
    assert len(received) >= 3 and not t.is_alive()


def test_ping_failure_is_logged_not_fatal(caplog):
    attempts = []

    class Sch:
        def ping(self, worker):
            attempts.append(worker)
            raise OSError("down")

    t = w.KeepAliveThread(Sch(), "W", 0.01, lambda m: None)
    t.start()
    deadline = time.time() + 5
    while len(attempts) < 2 and time.time() < deadline:
        time.sleep(0.01)
    t.stop()
    t.join(5)
    assert len(attempts) >= 2 and "Failed pinging scheduler" in caplog.text


def test_rpc_dispatch_rules(sch, caplog):
    wk = make_worker(sch)
    wk._handle_rpc_message({"name": "set_worker_processes", "kwargs": {"n": 3}})
    assert wk.worker_processes == 3
    assert ("add_worker", (wk._id, {"workers": 3}), {}) in sch.calls
    wk._handle_rpc_message({"name": "no_such", "kwargs": {}})
    wk._handle_rpc_message({"name": "run", "kwargs": {}})
    assert f"Worker {wk._id} has no function 'no_such'" in caplog.text
    assert f"Worker {wk._id} function 'run' is not available as rpc message callback" in caplog.text
    wk._handle_rpc_message({"name": "set_worker_processes", "kwargs": {"n": 0}})
    assert wk.worker_processes == 1


def test_set_worker_processes_via_scheduler_ping(sch):
    with make_worker(sch, ping_interval=0.02) as wk:
        wk._add_worker()
        sch.set_worker_processes(wk._id, 4)
        deadline = time.time() + 5
        while wk.worker_processes != 4 and time.time() < deadline:
            time.sleep(0.01)
    assert wk.worker_processes == 4


def test_sigusr1_phases_out_worker(sch):
    wk = w.Worker(scheduler=sch, wait_interval=0.01, wait_jitter=0, keep_alive=True)
    try:
        os.kill(os.getpid(), signal.SIGUSR1)
        deadline = time.time() + 5
        while not wk._stop_requesting_work and time.time() < deadline:
            time.sleep(0.01)
        assert wk._stop_requesting_work and wk._config.keep_alive is False
        assert wk._get_work() == w.GetWorkResponse(None, 0, 0, 0, 0, "disabled")
    finally:
        signal.signal(signal.SIGUSR1, signal.SIG_DFL)


def test_disabled_worker_stops_asking_for_work(sch):
    wk = make_worker(sch, keep_alive=True)
    wk.add(Waiter())
    sch.disable_worker(wk._id)
    started = time.time()
    assert wk.run() is True
    assert time.time() - started < 5
    assert not os.path.exists("released")
    assert wk._stop_requesting_work


def test_keep_alive_waits_for_other_workers_task(sch):
    """A kept-alive worker polls until a task blocked by another worker becomes runnable."""
    other = make_worker(sch, worker_id="other")

    class Gate(luigi.Task):
        def complete(self):
            return os.path.exists("gate")

        def run(self):
            open("gate", "w").close()

    class AfterGate(luigi.Task):
        def requires(self):
            return Gate()

        def complete(self):
            return os.path.exists("after")

        def run(self):
            open("after", "w").close()

    other.add(Gate())
    sch.get_work(worker="other")  # the other worker claims Gate and holds it
    wk = make_worker(sch, keep_alive=True, wait_interval=0.02)
    wk.add(AfterGate())

    def finish_gate():
        time.sleep(0.3)
        open("gate", "w").close()
        sch.add_task(worker="other", task_id=Gate().task_id, status="DONE")

    threading.Thread(target=finish_gate).start()
    assert wk.run() is True
    assert os.path.exists("after")
    assert any(rt for h in wk._get_work_response_history for rt in h["running_tasks"])


def test_worker_processes_zero_only_counts_pending(sch):
    wk = make_worker(sch, worker_processes=0)
    wk.add(Waiter())
    assert wk.run() is True
    assert not os.path.exists("released")
    assert wk._get_work_response_history == [{"task_id": None, "running_tasks": []}]


def test_exit_terminates_running_children(sch):
    class Forever(luigi.Task):
        def run(self):
            time.sleep(60)

    wk = make_worker(sch, worker_processes=2)
    with wk:
        wk.add(Forever())
        wk._run_task(wk._get_work().task_id)
        proc = next(iter(wk._running_tasks.values()))
        assert proc.is_alive()
    assert not proc.is_alive()
