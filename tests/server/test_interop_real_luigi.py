"""Interoperability with Luigi 3.8.1 (run as a black box from its own virtualenv).

Real Luigi's RemoteScheduler and worker against our luigid, and ours against real Luigi's luigid."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from luigid_helpers import ROOT, RealLuigid, real_luigi_python

from luigi import configuration
from luigi.rpc import RemoteScheduler

HERE = Path(__file__).resolve().parent
N_LEAVES = 999  # + Top = 1,000 tasks

REAL_CLIENT_SCRIPT = r"""
import json, sys
import luigi.rpc
s = luigi.rpc.RemoteScheduler(sys.argv[1])
out = {}
s.add_worker("RW", {"workers": 2, "host": "h", "username": "u", "pid": 1})
s.add_task(worker="RW", task_id="A(x=1)", family="A", status="PENDING", deps=["B()"], params={"x": "1"},
           param_visibilities={"x": 0}, priority=3, resources={"r": 1}, retry_policy_dict={"retry_count": 5})
s.add_task(worker="RW", task_id="B()", family="B", status="PENDING", module="m")
s.add_task_batcher(worker="RW", task_family="C", batched_args=["p"], max_batch_size=float("inf"))
out["count_pending"] = s.count_pending(worker="RW")
out["work1"] = s.get_work(worker="RW", host="h", assistant=False, current_tasks=[])
s.add_task(worker="RW", task_id="B()", status="DONE")
out["work2"] = s.get_work(worker="RW", host="h", assistant=False, current_tasks=[])
s.set_task_status_message("A(x=1)", "half")
s.set_task_progress_percentage("A(x=1)", 50)
out["status_message"] = s.get_task_status_message("A(x=1)")
out["progress"] = s.get_task_progress_percentage("A(x=1)")
s.add_task(worker="RW", task_id="A(x=1)", status="FAILED", expl=json.dumps("Traceback: boom"))
out["error"] = s.fetch_error("A(x=1)")
out["ping"] = s.ping(worker="RW")
out["failed"] = s.task_list("FAILED", "")
out["graph"] = s.dep_graph("A(x=1)")
out["workers"] = [w["name"] for w in s.worker_list()]
out["search"] = s.task_search("x=1")
out["paused"] = s.is_paused()
out["history"] = s.has_task_history()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def real_python():
    return real_luigi_python()


def our_env(tmp_path: Path) -> dict[str, str]:
    cfg = tmp_path / "client.cfg"
    if not cfg.exists():
        cfg.write_text("")
    return {**os.environ, "PYTHONPATH": f"{HERE}{os.pathsep}{ROOT}", "LUIGI_CONFIG_PATH": str(cfg)}


def real_env(tmp_path: Path) -> dict[str, str]:
    cfg = tmp_path / "real-client.cfg"
    cfg.write_text("")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {**env, "PYTHONPATH": str(HERE), "LUIGI_CONFIG_PATH": str(cfg)}


def test_real_luigi_client_calls_against_our_luigid(real_python, make_luigid, tmp_path):
    luigid = make_luigid("--state-path", str(tmp_path / "state.db")).start()
    proc = subprocess.run([str(real_python), "-c", REAL_CLIENT_SCRIPT, luigid.url], capture_output=True, text=True,
                          env=real_env(tmp_path), cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["count_pending"]["n_pending_tasks"] == 2
    assert out["work1"]["task_id"] == "B()"
    assert out["work1"]["task_module"] == "m"
    assert out["work2"]["task_id"] == "A(x=1)"
    assert out["work2"]["task_params"] == {"x": "1"}
    assert out["status_message"] == {"taskId": "A(x=1)", "statusMessage": "half"}
    assert out["progress"] == {"taskId": "A(x=1)", "progressPercentage": 50}
    assert json.loads(out["error"]["error"]) == "Traceback: boom"  # expl is stored JSON-encoded
    assert out["error"]["displayName"] == "A(x=1)"
    assert out["ping"] == {"rpc_messages": []}
    assert list(out["failed"]) == ["A(x=1)"]
    assert set(out["graph"]) == {"A(x=1)", "B()"}
    assert out["workers"] == ["RW"]
    assert list(out["search"]["FAILED"]) == ["A(x=1)"]
    assert out["paused"] == {"paused": False}
    assert out["history"] is False


def test_our_client_calls_against_real_luigid(tmp_path):
    real = RealLuigid(tmp_path)
    try:
        configuration.get_config().set("core", "rpc_retry_wait", "0")
        sch = RemoteScheduler(real.url)
        sch.add_worker("OW", {"workers": 1, "host": "h"})
        sch.add_task(worker="OW", task_id="A", family="A", deps=["B"], params={"p": "1"})
        sch.add_task(worker="OW", task_id="B", family="B")
        sch.add_task_batcher(worker="OW", task_family="C", batched_args=["p"], max_batch_size=float("inf"))
        assert sch.get_work(worker="OW", host="h", current_tasks=[])["task_id"] == "B"
        sch.add_task(worker="OW", task_id="B", status="DONE")
        work = sch.get_work(worker="OW", host="h", current_tasks=[])
        assert (work["task_id"], work["task_params"]) == ("A", {"p": "1"})
        sch.add_task(worker="OW", task_id="A", status="DONE")
        assert set(sch.task_list("DONE", "")) == {"A", "B"}
        assert sch.ping(worker="OW") == {"rpc_messages": []}
        assert [w["name"] for w in sch.worker_list()] == ["OW"]
    finally:
        real.stop()


def _check_pipeline_outputs(root: Path) -> None:
    assert (root / "top.txt").read_text() == str(sum(range(N_LEAVES)))
    assert len(list(root.glob("leaf-*.txt"))) == N_LEAVES


def test_real_luigi_worker_runs_1000_tasks_on_our_luigid(real_python, make_luigid, tmp_path):
    luigid = make_luigid("--state-path", str(tmp_path / "state.db")).start()
    out = tmp_path / "out"
    proc = subprocess.run(
        [str(real_python), "-m", "luigi", "--module", "interop_pipeline", "Top", "--root", str(out),
         "--workers", "4", "--scheduler-url", luigid.url + "/"],
        capture_output=True, text=True, env=real_env(tmp_path), cwd=tmp_path, timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_pipeline_outputs(out)
    assert len(RemoteScheduler(luigid.url).task_list("DONE", "")) == N_LEAVES + 1


def test_our_worker_runs_1000_tasks_on_real_luigid(tmp_path):
    real = RealLuigid(tmp_path)
    try:
        out = tmp_path / "out"
        proc = subprocess.run(
            [sys.executable, "-m", "luigi", "--module", "interop_pipeline", "Top", "--root", str(out),
             "--workers", "4", "--scheduler-url", real.url + "/"],
            capture_output=True, text=True, env=our_env(tmp_path), cwd=tmp_path, timeout=900,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        _check_pipeline_outputs(out)
        assert len(RemoteScheduler(real.url).task_list("DONE", "")) == N_LEAVES + 1
    finally:
        real.stop()
