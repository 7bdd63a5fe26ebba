"""Shared helpers for the central-scheduler tests: in-process servers, luigid subprocesses, raw HTTP."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LISTENING_RE = re.compile(r"listening on (\S+?):(\d+)")


class ServerThread:
    """``luigi.server`` app for ``scheduler`` on 127.0.0.1:<free port>, served from a thread."""

    def __init__(self, scheduler: Any, store_path: str | None = None, unix_socket: str | None = None) -> None:
        import tornado.ioloop

        from luigi import server

        self.scheduler = scheduler
        self.saver = None
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(asyncio.new_event_loop())
            self.loop = tornado.ioloop.IOLoop.current()
            if store_path is not None:
                from luigi._store import SqliteStateStore

                store = SqliteStateStore(store_path)
                if not store.is_empty():
                    store.load_into(scheduler._state)
                self.saver = server.StateSaver(store, scheduler)
                self.saver.restore_settings()
            names = server._init_api(scheduler, 0, "127.0.0.1", unix_socket=unix_socket, state_saver=self.saver)
            self.port = None if unix_socket else names[0][1]
            ready.set()
            self.loop.start()
            if self.saver is not None:
                self.saver.close()
            self.loop.close(all_fds=True)

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        ready.wait(10)
        if unix_socket:
            self.url = "http+unix://" + urllib.parse.quote(unix_socket, safe="")
        else:
            self.url = f"http://127.0.0.1:{self.port}"

    def call_in_loop(self, fn: Any) -> Any:
        """Run ``fn()`` on the server thread (the scheduler is single-threaded) and return its result."""
        done = threading.Event()
        box: list[Any] = []
        self.loop.add_callback(lambda: (box.append(fn()), done.set()))
        done.wait(10)
        return box[0]

    def stop(self) -> None:
        self.loop.add_callback(self.loop.stop)
        self.thread.join(10)


def http_call(
    port: int, path: str, data: Any = None, *, method: str = "POST", raw_body: bytes | None = None,
    headers: dict[str, str] | None = None, query: str = "",
) -> tuple[int, Any, http.client.HTTPResponse]:
    """One request to 127.0.0.1:port; returns (status, decoded JSON or text, response)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = raw_body
    hdrs = dict(headers or {})
    if data is not None and raw_body is None:
        body = urllib.parse.urlencode({"data": json.dumps(data)}).encode()
    if body is not None:
        hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
    conn.request(method, path + (("?" + query) if query else ""), body=body, headers=hdrs)
    resp = conn.getresponse()
    text = resp.read().decode("utf-8", "replace")
    conn.close()
    try:
        return resp.status, json.loads(text), resp
    except ValueError:
        return resp.status, text, resp


class Luigid:
    """A real ``luigid`` subprocess (our implementation) on a free port."""

    def __init__(self, workdir: Path, *args: str, env: dict[str, str] | None = None, config: str = "") -> None:
        self.workdir = workdir
        self.config_path = workdir / "luigid.cfg"
        self.config_path.write_text(config)
        self.args = args
        self.env = {**os.environ, "LUIGI_CONFIG_PATH": str(self.config_path), "PYTHONPATH": str(ROOT), **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.log: list[str] = []

    def start(self, port: int = 0) -> Luigid:
        cmd = [sys.executable, "-c", "from luigi.cmdline import luigid; luigid()", *self.args]
        if "--unix-socket" not in self.args:
            cmd += ["--address", "127.0.0.1", "--port", str(port)]
        self.proc = subprocess.Popen(cmd, cwd=self.workdir, env=self.env, stderr=subprocess.PIPE, text=True)
        ready = threading.Event()
        self.log = []

        def read(proc: subprocess.Popen = self.proc, log: list[str] = self.log) -> None:
            for line in proc.stderr:
                log.append(line)
                if "listening on" in line:
                    match = LISTENING_RE.search(line)
                    self.port = int(match.group(2)) if match else None
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(60) or self.proc.poll() is not None:
            raise RuntimeError("luigid did not start:\n" + "".join(self.log))
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(30)

    def terminate(self) -> int:
        self.proc.terminate()
        return self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()


REAL_LUIGI_VERSION = "3.8.1"


def real_luigi_python() -> Path:
    """Python of a virtualenv with Luigi 3.8.1 (``/opt/realluigi`` if present, else created under
    ``.venv-interop/`` in the repo with ``python3 -m venv`` + ``pip install luigi==3.8.1``)."""
    probe = f"import luigi, sys; sys.exit(luigi.__version__ != {REAL_LUIGI_VERSION!r})"
    preinstalled = Path("/opt/realluigi/bin/python")
    if preinstalled.exists() and subprocess.run([str(preinstalled), "-c", probe]).returncode == 0:
        return preinstalled
    base = ROOT / ".venv-interop"
    base.mkdir(exist_ok=True)
    (base / ".gitignore").write_text("*\n")  # never committed
    venv = base / f"luigi-{REAL_LUIGI_VERSION}"
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    if not stamp.exists():
        subprocess.run(["python3", "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"luigi=={REAL_LUIGI_VERSION}"], check=True)
        stamp.touch()
    return python


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RealLuigid:
    """Luigi 3.8.1's own luigid as a subprocess (black box), on a free port."""

    def __init__(self, workdir: Path) -> None:
        python = real_luigi_python()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [str(python), "-c", "from luigi.cmdline import luigid; luigid()", "--address", "127.0.0.1",
               "--port", str(self.port), "--state-path", str(workdir / "real-state.pickle")]
        cfg = workdir / "real-luigid.cfg"
        cfg.write_text("")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["LUIGI_CONFIG_PATH"] = str(cfg)
        self.proc = subprocess.Popen(cmd, cwd=workdir, env=env, stderr=subprocess.PIPE, text=True)
        ready = threading.Event()
        self.log: list[str] = []

        def read() -> None:
            for line in self.proc.stderr:
                self.log.append(line)
                if "Scheduler starting up" in line:
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(60) or self.proc.poll() is not None:
            raise RuntimeError("real luigid did not start:\n" + "".join(self.log))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
