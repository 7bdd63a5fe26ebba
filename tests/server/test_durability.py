"""kill -9 of luigid in the middle of a run, then a restart: nothing acknowledged is lost."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from luigi import configuration
from luigi.rpc import RemoteScheduler

HERE = Path(__file__).resolve().parent
N_TASKS = int(os.environ.get("LUIGI_DURABILITY_TASKS", "10000"))
N_WORKERS = 4
FAIL_ONCE = ["T0", "T1"]
FAIL_TWICE = ["T2", "T3"]

CONFIG = """
[scheduler]
retry_count = 2
disable_window = 86400
retry_delay = 86400
disable_persist = 86400
worker_disconnect_delay = 3600

[core]
rpc_retry_wait = 1
rpc_retry_attempts = 120
"""


class Client:
    """One durability_client.py process; its stdout lines are collected by a reader thread."""

    def __init__(self, url: str, index: int, env: dict[str, str], cwd: Path, changed: threading.Condition) -> None:
        self.done: set[str] = set()
        self.failed: set[str] = set()
        self.finished = threading.Event()
        self.changed = changed
        args = [sys.executable, str(HERE / "durability_client.py"), url, str(index), str(N_WORKERS), str(N_TASKS),
                ",".join(FAIL_ONCE), ",".join(FAIL_TWICE)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env, cwd=cwd)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            kind, _, task_id = line.strip().partition(" ")
            with self.changed:
                if kind == "done":
                    self.done.add(task_id)
                elif kind == "failed":
                    self.failed.add(task_id)
                elif kind == "finished":
                    self.finished.set()
                self.changed.notify_all()
        with self.changed:
            self.finished.set()
            self.changed.notify_all()


def wait_for(changed, clients, predicate, timeout):
    """Block until predicate() holds, woken by client output (no polling)."""
    with changed:
        changed.wait_for(lambda: predicate() or all(c.finished.is_set() for c in clients), timeout)
        assert predicate(), "condition not reached"


@pytest.fixture
def clients():
    """The client processes of a test; killed at the end whatever happened."""
    started: list[Client] = []
    yield started
    for client in started:
        if client.proc.poll() is None:
            client.proc.kill()
            client.proc.wait(30)


def test_kill_9_mid_run_then_restart_loses_nothing(make_luigid, tmp_path, clients):
    state_path = tmp_path / "state" / "luigi-state.db"
    luigid = make_luigid("--state-path", str(state_path), config=CONFIG).start()
    env = {**luigid.env}
    changed = threading.Condition()
    clients += [Client(luigid.url, i, env, tmp_path, changed) for i in range(N_WORKERS)]

    def acknowledged_done():
        return set().union(*(c.done for c in clients))

    def progressed():
        failed = set().union(*(c.failed for c in clients))
        return len(acknowledged_done()) >= N_TASKS // 3 and failed == set(FAIL_ONCE + FAIL_TWICE)

    wait_for(changed, clients, progressed, timeout=300)
    luigid.kill()  # SIGKILL: no shutdown code runs
    with changed:
        done_before_kill = acknowledged_done()
    assert not any(c.finished.is_set() and c.proc.poll() == 0 for c in clients), "run finished before the kill"

    luigid.start(port=luigid.port)
    configuration.get_config().set("core", "rpc_retry_wait", "1")
    sch = RemoteScheduler(luigid.url)
    done_now = sch.task_list("DONE", "", limit=False)
    assert done_before_kill <= set(done_now)

    failed = sch.task_list("FAILED", "", limit=False)
    assert set(failed) == set(FAIL_ONCE)
    disabled = sch.task_list("DISABLED", "", limit=False)
    assert set(disabled) == set(FAIL_TWICE)
    assert all(node["re_enable_able"] for node in disabled.values())

    for client in clients:
        assert client.proc.wait(600) == 0
        assert client.finished.is_set()

    # failure bookkeeping survived: one more failure reaches retry_count = 2 and disables the task
    sch.add_task(worker="durability-worker-0", task_id="T0", status="FAILED", expl='"again"')
    assert sch.task_list("DISABLED", "", limit=False).keys() == {"T0", *FAIL_TWICE}

    done = sch.task_list("DONE", "", limit=False)
    assert len(done) == N_TASKS - len(FAIL_ONCE) - len(FAIL_TWICE)
    assert luigid.terminate() == 0


def test_resource_limits_set_at_runtime_survive_kill_9(make_luigid, tmp_path):
    luigid = make_luigid("--state-path", str(tmp_path / "state.db"), config="[resources]\ngpu = 2\ncpu = 8\n").start()
    sch = RemoteScheduler(luigid.url)
    assert sch.update_resource("gpu", 5) is True
    assert sch.update_resource("gpu", -1) is False  # refused: not kept either
    sch.update_resources(tape=1)
    luigid.kill()  # SIGKILL right after the answers: they were committed before being sent

    luigid.config_path.write_text("[resources]\ngpu = 2\ncpu = 16\n")  # edited while luigid was down
    luigid.start(port=luigid.port)
    totals = {r["name"]: r["num_total"] for r in RemoteScheduler(luigid.url).resource_list()}
    # runtime changes win; a limit never changed at runtime follows the configuration
    assert totals == {"gpu": 5, "tape": 1, "cpu": 16}
