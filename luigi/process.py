"""Daemon helpers for ``luigid --background``: pid files, log files, detaching from the terminal."""

from __future__ import annotations

import datetime
import logging
import logging.handlers
import os
from typing import Any, Callable

rootlogger = logging.getLogger()
server_logger = logging.getLogger("luigi.server")


def check_pid(pidfile: str | None) -> int:
    """The pid stored in ``pidfile`` if that process exists, else 0."""
    if pidfile and os.path.exists(pidfile):
        try:
            with open(pidfile) as f:
                pid = int(f.read().strip())
            os.kill(pid, 0)
            return pid
        except Exception:
            return 0
    return 0


def write_pid(pidfile: str) -> None:
    """Write this process's pid to ``pidfile`` (creating its directory)."""
    server_logger.info("Writing pid file")
    piddir = os.path.dirname(pidfile)
    if piddir != "":
        try:
            os.makedirs(piddir)
        except OSError:
            pass
    with open(pidfile, "w") as fobj:
        fobj.write(str(os.getpid()))


def get_log_format() -> str:
    return "%(asctime)s %(name)s[%(process)s] %(levelname)s: %(message)s"


def get_spool_handler(filename: str) -> logging.Handler:
    """A log handler rotating ``filename`` daily and keeping a week of files."""
    handler = logging.handlers.TimedRotatingFileHandler(filename=filename, when="d", encoding="utf8", backupCount=7)
    handler.setFormatter(logging.Formatter(get_log_format()))
    return handler


def _server_already_running(pidfile: str | None) -> bool:
    return bool(pidfile) and bool(check_pid(pidfile))


def daemonize(
    cmd: Callable[..., Any],
    pidfile: str | None = None,
    logdir: str | None = None,
    api_port: int | str = 8082,
    address: str | None = None,
    unix_socket: str | None = None,
) -> None:
    """Detach (python-daemon) and run ``cmd(api_port=..., address=..., unix_socket=...)``.

    Unlike Luigi, an already running server (per ``pidfile``) is detected *before* detaching, so the
    caller sees the message and nothing is forked."""
    import daemon

    if pidfile and _server_already_running(pidfile):
        # warning level: nothing else reports to the caller once we detach
        server_logger.warning("Server already running (pid=%s)", check_pid(pidfile))
        return
    logdir = logdir or "/var/log/luigi"
    if not os.path.exists(logdir):
        os.makedirs(logdir)
    log_path = os.path.join(logdir, "luigi-server.log")
    today = datetime.date.today()
    stdout_path = os.path.join(logdir, f"luigi-server-{today:%Y-%m-%d}.out")
    stderr_path = os.path.join(logdir, f"luigi-server-{today:%Y-%m-%d}.err")
    stdout_proxy = open(stdout_path, "a+")
    stderr_proxy = open(stderr_path, "a+")
    try:
        ctx = daemon.DaemonContext(
            stdout=stdout_proxy, stderr=stderr_proxy, working_directory=".", initgroups=False
        )
    except TypeError:
        ctx = daemon.DaemonContext(stdout=stdout_proxy, stderr=stderr_proxy, working_directory=".")
    with ctx:
        rootlogger.addHandler(get_spool_handler(log_path))
        if pidfile:
            server_logger.info("Checking pid file")
            existing_pid = check_pid(pidfile)
            if existing_pid:
                server_logger.info("Server already running (pid=%s)", existing_pid)
                return
            write_pid(pidfile)
        cmd(api_port=api_port, address=address, unix_socket=unix_socket)
