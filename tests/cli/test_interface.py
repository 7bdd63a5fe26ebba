"""``luigi.interface`` and ``luigi.cmdline`` from Python: run/build return values, factories, lock, luigid."""

from __future__ import annotations

import os
import tempfile

import pytest

import luigi
import luigi.cmdline
import luigi.interface
import luigi.retcodes
from luigi.execution_summary import LuigiRunResult, LuigiStatusCode


class Echo(luigi.Task):
    word = luigi.Parameter(default="hi")

    def output(self):
        return luigi.LocalTarget(f"echo-{self.word}.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write(self.word)


def test_run_with_a_command_line_returns_bool_or_result(tmp_path):
    assert luigi.run(["Echo", "--word", "a", "--no-lock", "--no-progress"], local_scheduler=True) is True
    result = luigi.run(["Echo", "--word", "b", "--no-lock", "--no-progress"], local_scheduler=True, detailed_summary=True)
    assert isinstance(result, LuigiRunResult) and result.status == LuigiStatusCode.SUCCESS
    assert (tmp_path / "echo-a.txt").read_text() == "a" and (tmp_path / "echo-b.txt").read_text() == "b"


def test_run_with_main_task_cls_puts_the_family_first(tmp_path):
    assert luigi.run(["--word", "c", "--no-lock", "--no-progress"], main_task_cls=Echo, local_scheduler=True)
    assert (tmp_path / "echo-c.txt").read_text() == "c"


def test_run_rejects_a_string_command_line():
    with pytest.raises(TypeError) as info:
        luigi.run("Echo --word a")
    assert str(info.value) == (
        "cmdline_args must be a list or tuple of command-line arguments, got 'str'. Example: ['MyTask', '--param', 'value']"
    )


def test_use_dynamic_argparse_is_deprecated():
    with pytest.warns(DeprecationWarning, match="use_dynamic_argparse is deprecated, don't set it."):
        luigi.run(["Echo", "--no-lock", "--no-progress"], local_scheduler=True, use_dynamic_argparse=True)


class RecordingFactory(luigi.interface._WorkerSchedulerFactory):
    """Records how the interface asks for a scheduler and worker; uses a local scheduler anyway."""

    def __init__(self):
        self.calls = []

    def create_local_scheduler(self):
        self.calls.append(("local",))
        return super().create_local_scheduler()

    def create_remote_scheduler(self, url):
        self.calls.append(("remote", url))
        return super().create_local_scheduler()

    def create_worker(self, scheduler, worker_processes, assistant=False):
        self.calls.append(("worker", worker_processes, assistant))
        return super().create_worker(scheduler, worker_processes, assistant)


@pytest.mark.parametrize(
    ("env", "expected_url"),
    [
        ({}, "http://localhost:8082/"),
        ({"scheduler_host": "sched.example", "scheduler_port": 9000}, "http://sched.example:9000/"),
        ({"scheduler_url": "http://other:1/prefix/", "scheduler_host": "ignored"}, "http://other:1/prefix/"),
    ],
)
def test_remote_scheduler_url_from_core_settings(env, expected_url):
    factory = RecordingFactory()
    assert luigi.build([Echo()], worker_scheduler_factory=factory, no_progress=True, workers=3, **env)
    assert factory.calls == [("remote", expected_url), ("worker", 3, False)]


def test_build_takes_the_pid_lock_only_when_asked(tmp_path):
    pid_dir = str(tmp_path / "pids")
    assert luigi.build([Echo(word="x")], local_scheduler=True, no_progress=True)
    assert not os.path.exists(pid_dir)
    assert luigi.build([Echo(word="x")], local_scheduler=True, no_progress=True, no_lock=False, lock_pid_dir=pid_dir)
    # this process's pid is now recorded for this command line, so a second locked run is refused
    with pytest.raises(luigi.interface.PidLockAlreadyTakenExit) as info:
        luigi.build([Echo(word="y")], local_scheduler=True, no_progress=True, no_lock=False, lock_pid_dir=pid_dir)
    assert info.value.code is None


def test_core_defaults():
    params = luigi.interface.core()
    assert (params.workers, params.local_scheduler, params.scheduler_host, params.scheduler_port) == (1, False, "localhost", 8082)
    assert params.lock_pid_dir == os.path.join(tempfile.gettempdir(), "luigi")
    assert params.log_level == "DEBUG" and params.scheduler_url == ""


@pytest.mark.filterwarnings("ignore::luigi.parameter.UnconsumedParameterWarning")  # Luigi warns here too
def test_core_reads_config_including_deprecated_aliases(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[core]\nworkers = 4\ndefault-scheduler-host = old.example\n")
    params = luigi.interface.core()
    assert params.workers == 4 and params.scheduler_host == "old.example"


class Broken(luigi.Task):
    def output(self):
        return luigi.LocalTarget("broken.txt")

    def run(self):
        raise RuntimeError("broken")


def test_run_with_retcodes_in_process(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[retcode]\ntask_failed = 5\n")
    with pytest.raises(SystemExit) as info:
        luigi.retcodes.run_with_retcodes(["Echo", "--word", "z", "--local-scheduler", "--no-lock", "--no-progress"])
    assert info.value.code == 0
    with pytest.raises(SystemExit) as info:
        luigi.retcodes.run_with_retcodes(["Broken", "--local-scheduler", "--no-lock", "--no-progress"])
    assert info.value.code == 5


def test_luigid_delegates_to_the_server(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr("luigi.server.run", lambda **kwargs: calls.append(kwargs))
    monkeypatch.setattr("luigi.cmdline.DaemonLogging.setup", lambda opts: calls.append(("logging", opts.logdir)))
    state_path = str(tmp_path / "state.pickle")
    luigi.cmdline.luigid(["--address", "127.0.0.1", "--port", "9999", "--state-path", state_path])
    assert calls == [("logging", None), {"api_port": "9999", "address": "127.0.0.1", "unix_socket": None}]
    assert luigi.configuration.get_config().get("scheduler", "state_path") == state_path
