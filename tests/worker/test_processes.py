"""Task subprocesses: workers=N, crashes, timeouts (whole process tree), forwarded reporter calls."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import luigi
from luigi.event import Event
from tests.worker.conftest import make_worker


class Touch(luigi.Task):
    i = luigi.IntParameter()

    def output(self):
        return luigi.LocalTarget(f"touch-{self.i}")

    def run(self):
        with self.output().open("w") as fh:
            fh.write(str(os.getpid()))


class Many(luigi.WrapperTask):
    n = luigi.IntParameter()

    def requires(self):
        return [Touch(i=i) for i in range(self.n)]


def _run(sch, task, **kw):
    with make_worker(sch, **kw) as wk:
        added = wk.add(task)
        return wk, added, wk.run()


def test_two_workers_run_in_subprocesses(sch, tmp_path):
    wk, added, ok = _run(sch, Many(n=12), worker_processes=2)
    assert added and ok
    pids = {int((tmp_path / f"touch-{i}").read_text()) for i in range(12)}
    assert os.getpid() not in pids
    assert sch.status(Many(n=12).task_id) == "DONE"


def test_force_multiprocessing_with_one_process(sch, tmp_path):
    wk, added, ok = _run(sch, Touch(i=99), force_multiprocessing=True)
    assert ok and int((tmp_path / "touch-99").read_text()) != os.getpid()


class Killed(luigi.Task):
    def run(self):
        os.kill(os.getpid(), signal.SIGKILL)


def test_task_killed_by_signal_fails_once(sch):
    events = []
    Killed.event_handler(Event.PROCESS_FAILURE)(lambda t, msg: events.append(msg))
    wk, added, ok = _run(sch, Killed(), force_multiprocessing=True)
    assert not ok
    expected = f"Task {Killed().task_id} died unexpectedly with exit code -9"
    assert events == [expected]
    failed = [kw for name, _, kw in sch.calls if name == "add_task" and kw.get("status") == "FAILED"]
    assert len(failed) == 1 and json.loads(failed[0]["expl"]) == expected


class ExitsQuietly(luigi.Task):
    def run(self):
        os._exit(0)


def test_silent_exit_without_result_does_not_hang(sch):
    wk, added, ok = _run(sch, ExitsQuietly(), force_multiprocessing=True)
    assert not ok
    assert sch.status(ExitsQuietly().task_id) == "FAILED"


class Sleepy(luigi.Task):
    worker_timeout = 1

    def output(self):
        return luigi.LocalTarget("grandchild.pid")

    def run(self):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        with open("grandchild.pid.tmp", "w") as fh:
            fh.write(str(child.pid))
        os.rename("grandchild.pid.tmp", "grandchild.pid")
        time.sleep(60)


def _pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_timeout_kills_the_whole_process_tree(sch, tmp_path):
    timeouts = []
    Sleepy.event_handler(Event.TIMEOUT)(lambda t, msg: timeouts.append(msg))
    failures = []
    Sleepy.event_handler(Event.PROCESS_FAILURE)(lambda t, msg: failures.append(msg))
    started = time.time()
    wk, added, ok = _run(sch, Sleepy())
    assert not ok and time.time() - started < 30
    assert timeouts == [f"Task {Sleepy().task_id} timed out after 1 seconds and was terminated."]
    assert failures == []  # no duplicate "died unexpectedly"
    grandchild = int((tmp_path / "grandchild.pid").read_text())
    deadline = time.time() + 5
    while _pid_alive(grandchild) and time.time() < deadline:
        time.sleep(0.05)
    assert not _pid_alive(grandchild)


def test_timeout_fallback_without_psutil(sch, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "psutil", None)  # import psutil -> ImportError
    test_timeout_kills_the_whole_process_tree(sch, tmp_path)


class Reporter(luigi.Task):
    def run(self):
        self.set_status_message(f"from child {os.getpid()}")
        self.set_progress_percentage(75)
        self.set_tracking_url("http://tracker/child")
        self.decrease_running_resources({"cpu": 1})

    def complete(self):
        return os.path.exists("reported")

    def on_success(self):
        open("reported", "w").close()


def test_reporter_calls_from_subprocess_reach_in_process_scheduler(sch):
    wk, added, ok = _run(sch, Reporter(), force_multiprocessing=True)
    assert ok
    tid = Reporter().task_id
    assert sch.get_task_status_message(tid)["statusMessage"].startswith("from child ")
    assert sch.get_task_status_message(tid)["statusMessage"] != f"from child {os.getpid()}"
    assert sch.get_task_progress_percentage(tid)["progressPercentage"] == 75
    assert any(kw.get("tracking_url") == "http://tracker/child" for name, _, kw in sch.calls if name == "add_task")


class Listener(luigi.Task):
    accepts_messages = True

    def run(self):
        open("listening", "w").close()
        msg = self.scheduler_messages.get(timeout=20)
        msg.respond("echo " + str(msg))
        open("answered", "w").close()

    def complete(self):
        return os.path.exists("answered")


def test_scheduler_message_response_from_subprocess(sch):
    with make_worker(sch, force_multiprocessing=True) as wk:
        wk.add(Listener())

        def send():
            deadline = time.time() + 20
            while not os.path.exists("listening") and time.time() < deadline:
                time.sleep(0.02)
            wk.dispatch_scheduler_message(Listener().task_id, "m7", "hi")

        sender = threading.Thread(target=send)
        sender.start()
        assert wk.run()
        sender.join()
    assert sch._state.get_task(Listener().task_id).scheduler_message_responses == {"m7": "echo hi"}


class HoldsLock(luigi.Task):
    """Cannot be pickled (a lock attribute)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()

    def output(self):
        return luigi.LocalTarget("unpicklable-ran")

    def run(self):
        with self.lock:
            self.output().open("w").close()


def test_unpicklable_task_under_multiprocessing(sch, tmp_path):
    wk, added, ok = _run(sch, HoldsLock(), worker_processes=2)
    assert added and ok
    assert (tmp_path / "unpicklable-ran").exists()


def test_unpicklable_task_under_spawn_fails_without_hanging(sch, monkeypatch):
    import multiprocessing

    import luigi.worker

    ctx = multiprocessing.get_context("spawn")
    monkeypatch.setattr(luigi.worker.TaskProcess, "_Popen", staticmethod(ctx.Process._Popen))
    wk, added, ok = _run(sch, HoldsLock(), worker_processes=2)
    assert added and not ok
    assert sch.status(HoldsLock().task_id) == "FAILED"


class RecordPid(luigi.Task):
    i = luigi.IntParameter()

    def output(self):
        return luigi.LocalTarget(f"pid-{self.i}")

    def run(self):
        if self.i == 0:
            os.kill(os.getpid(), signal.SIGKILL)  # the first task takes its process down
        with self.output().open("w") as fh:
            fh.write(str(os.getpid()))


class PidFanIn(luigi.Task):
    def requires(self):
        return [RecordPid(i=i) for i in range(6)]

    def complete(self):
        return False

    def run(self):
        raise AssertionError("not reached: RecordPid(i=0) fails")


def test_subprocesses_are_reused_and_replaced_after_a_crash(sch, tmp_path):
    wk, added, ok = _run(sch, PidFanIn(), force_multiprocessing=True)
    assert not ok
    assert sch.status(RecordPid(i=0).task_id) == "FAILED"
    pids = [int((tmp_path / f"pid-{i}").read_text()) for i in range(1, 6)]
    assert all(sch.status(RecordPid(i=i).task_id) == "DONE" for i in range(1, 6))
    assert os.getpid() not in pids
    assert len(set(pids)) < len(pids)  # one subprocess ran several tasks


def test_per_task_fork_when_reuse_is_off(sch, tmp_path, monkeypatch):
    import luigi.worker

    monkeypatch.setattr(luigi.worker, "_REUSE_TASK_PROCESSES", False)
    wk, added, ok = _run(sch, Many(n=4), force_multiprocessing=True)
    assert ok
    pids = {int((tmp_path / f"touch-{i}").read_text()) for i in range(4)}
    assert len(pids) == 4 and os.getpid() not in pids


def test_build_with_two_workers_end_to_end(tmp_path):
    assert luigi.build([Many(n=20)], local_scheduler=True, workers=2, no_lock=True) is True
    assert all((tmp_path / f"touch-{i}").exists() for i in range(20))


class DynParent(luigi.Task):
    def output(self):
        return luigi.LocalTarget("dyn-parent")

    def run(self):
        deps = yield [Touch(i=100), Touch(i=101)]
        with self.output().open("w") as fh:
            fh.write(",".join(t.open().read() for t in deps))


def test_dynamic_dependencies_from_subprocesses(sch, tmp_path):
    wk, added, ok = _run(sch, DynParent(), worker_processes=2)
    assert ok
    child_pids = (tmp_path / "dyn-parent").read_text().split(",")
    assert len(child_pids) == 2 and str(os.getpid()) not in child_pids


class SleepsTwoSeconds(luigi.Task):
    def complete(self):
        return False

    def run(self):
        time.sleep(2)


def test_worker_timeout_from_config(sch):
    timeouts = []
    SleepsTwoSeconds.event_handler(Event.TIMEOUT)(lambda t, msg: timeouts.append(msg))
    started = time.time()
    wk, added, ok = _run(sch, SleepsTwoSeconds(), timeout=1)
    assert not ok and time.time() - started < 10
    assert timeouts == [f"Task {SleepsTwoSeconds().task_id} timed out after 1 seconds and was terminated."]


class ChangesCwd(luigi.Task):
    i = luigi.IntParameter()

    def output(self):
        return luigi.LocalTarget(os.path.abspath(f"cwd-{self.i}"))

    def run(self):
        with self.output().open("w") as fh:
            fh.write(os.getcwd() + "\n" + os.environ.get("LUIGI_TEST_MARK", ""))
        os.makedirs("elsewhere", exist_ok=True)
        os.chdir("elsewhere")
        os.environ["LUIGI_TEST_MARK"] = "leaked"


class CwdFanIn(luigi.WrapperTask):
    def requires(self):
        return [ChangesCwd(i=i) for i in range(4)]


def test_reused_subprocess_starts_each_task_in_the_original_cwd_and_environment(sch, tmp_path):
    wk, added, ok = _run(sch, CwdFanIn(), force_multiprocessing=True)
    assert ok
    for i in range(4):
        assert (tmp_path / f"cwd-{i}").read_text() == str(tmp_path) + "\n"
