"""luigid as users start it: foreground, Unix socket, background daemon with pid file, signals."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from luigid_helpers import ROOT, free_port, http_call

from luigi import process
from luigi.rpc import RemoteScheduler


def test_sigterm_saves_state_and_exits_zero(make_luigid, tmp_path):
    state = tmp_path / "state.db"
    luigid = make_luigid("--state-path", str(state)).start()
    sch = RemoteScheduler(luigid.url)
    sch.add_task(worker="W", task_id="A", family="A")
    sch.add_task(worker="W", task_id="A", status="DONE")
    sch.pause()
    assert luigid.terminate() == 0
    assert "Scheduler instance shutting down" in "".join(luigid.log)
    luigid.start()
    sch = RemoteScheduler(luigid.url)
    assert list(sch.task_list("DONE", "")) == ["A"]
    assert sch.is_paused() == {"paused": True}
    assert luigid.terminate() == 0


def test_legacy_pickle_state_path_is_imported_and_kept(make_luigid, tmp_path):
    state = tmp_path / "state.pickle"
    luigid = make_luigid("--state-path", str(state)).start()
    RemoteScheduler(luigid.url).add_task(worker="W", task_id="A", family="A")
    assert luigid.terminate() == 0
    assert state.exists()  # Luigi's pickle, for tools that read it
    assert (tmp_path / "state.db").exists()  # the durable store next to it
    luigid.start()
    assert list(RemoteScheduler(luigid.url).task_list("PENDING", "")) == ["A"]


def test_unix_socket(make_luigid, tmp_path):
    sock = tmp_path / "luigid.sock"
    luigid = make_luigid("--unix-socket", str(sock), "--state-path", str(tmp_path / "s.db")).start()
    assert oct(sock.stat().st_mode & 0o777) == "0o600"
    sch = RemoteScheduler("http+unix://" + urllib.parse.quote(str(sock), safe=""))
    assert sch.is_paused() == {"paused": False}
    assert luigid.terminate() == 0


def wait_for_file(path: Path, timeout: float = 30) -> None:
    """The daemon is a grandchild we cannot wait on; watch for the file it writes."""
    deadline = time.monotonic() + timeout
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_background_daemon_with_pidfile_and_logdir(tmp_path):
    pidfile, logdir, port = tmp_path / "run" / "luigid.pid", tmp_path / "logs", free_port()
    cfg = tmp_path / "d.cfg"
    cfg.write_text("")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LUIGI_CONFIG_PATH": str(cfg)}
    cmd = [sys.executable, "-c", "from luigi.cmdline import luigid; luigid()", "--background", "--pidfile",
           str(pidfile), "--logdir", str(logdir), "--port", str(port), "--address", "127.0.0.1",
           "--state-path", str(tmp_path / "s.db")]
    assert subprocess.run(cmd, env=env, cwd=tmp_path, timeout=60).returncode == 0
    wait_for_file(pidfile)
    pid = int(pidfile.read_text())
    try:
        wait_for_file(logdir / "luigi-server.log")
        while http_call_or_none(port) is None:
            time.sleep(0.05)
        assert http_call(port, "/api/is_paused", {})[1] == {"response": {"paused": False}}
        again = subprocess.run(cmd, env=env, cwd=tmp_path, timeout=60, capture_output=True, text=True)
        assert again.returncode == 0
        assert f"Server already running (pid={pid})" in again.stderr
        assert list(logdir.glob("luigi-server-*.out")) and list(logdir.glob("luigi-server-*.err"))
    finally:
        os.kill(pid, signal.SIGTERM)


def http_call_or_none(port):
    try:
        return http_call(port, "/", method="HEAD")
    except OSError:
        return None


def test_luigid_passes_options_to_server_run(monkeypatch):
    import luigi.server
    from luigi.cmdline import luigid

    calls = []
    monkeypatch.setattr(luigi.server, "run", lambda **kw: calls.append(kw))
    monkeypatch.setattr("luigi.setup_logging.DaemonLogging._configured", True, raising=False)
    luigid(["--port", "9000", "--address", "::1"])
    assert calls == [{"api_port": "9000", "address": "::1", "unix_socket": None}]


def test_pid_helpers(tmp_path):
    pidfile = tmp_path / "sub" / "p.pid"
    process.write_pid(str(pidfile))
    assert pidfile.read_text() == str(os.getpid())
    assert process.check_pid(str(pidfile)) == os.getpid()
    assert process._server_already_running(str(pidfile))
    pidfile.write_text("garbage")
    assert process.check_pid(str(pidfile)) == 0
    assert process.check_pid(None) == 0
    assert process.get_log_format() == "%(asctime)s %(name)s[%(process)s] %(levelname)s: %(message)s"
    handler = process.get_spool_handler(str(tmp_path / "x.log"))
    assert isinstance(handler, logging.handlers.TimedRotatingFileHandler)
    assert (handler.when, handler.backupCount) == ("D", 7)
    handler.close()


def test_luigid_help_lists_flags():
    out = subprocess.run([sys.executable, "-c", "from luigi.cmdline import luigid; luigid(['--help'])"],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    for flag in ["--background", "--pidfile", "--logdir", "--state-path", "--address", "--unix-socket", "--port"]:
        assert flag in out.stdout
