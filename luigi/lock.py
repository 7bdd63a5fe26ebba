"""Pid-file lock that keeps identical luigi command lines from running concurrently.

The lock identity is the process's full command line: its MD5 names a pid file in ``pid_dir``
holding the pids of processes that took the lock. Dead or reused pids are filtered out by
re-reading each recorded process's command line. Unlike Luigi, the read-check-write of the pid
file is serialised with an advisory ``flock`` (POSIX), and the pid file is only made
world-writable inside a private directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


def getpcmd(pid: int) -> str:
    """The command line of process ``pid``, or ``[PROCESS_WITH_PID={pid}]`` if it cannot be read."""
    if os.name == "nt":
        cmd = f"wmic path win32_process where ProcessID={pid} get Commandline 2> nul"
        with os.popen(cmd, "r") as proc:
            lines = [line for line in proc.readlines() if line.strip()]
        if len(lines) == 2:
            _header, value = lines
            return value
    elif sys.platform == "darwin":
        with tempfile.NamedTemporaryFile("w", prefix=f".{pid}.", suffix=".pid", delete=False) as pidfile:
            pidfile.write(str(pid))
        try:
            output = subprocess.check_output(["pgrep", "-lf", "-F", pidfile.name]).decode("utf-8").strip()
            _, _, cmdline = output.partition(" ")
            if cmdline:
                return cmdline
        except subprocess.CalledProcessError:
            pass
        finally:
            os.unlink(pidfile.name)
    else:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                return fh.read().decode("utf-8", "replace").replace("\0", " ").rstrip()
        except OSError:
            pass
    return f"[PROCESS_WITH_PID={pid}]"


def get_info(pid_dir: str, my_pid: int | None = None) -> tuple[int, str, str]:
    """``(pid, command line, pid file path)`` for ``my_pid`` (default: this process)."""
    if my_pid is None:
        my_pid = os.getpid()
    my_cmd = getpcmd(my_pid)
    cmd_hash = hashlib.md5(my_cmd.encode("utf8"), usedforsecurity=False).hexdigest()
    pid_file = os.path.join(pid_dir, cmd_hash) + ".pid"
    return my_pid, my_cmd, pid_file


@contextlib.contextmanager
def _exclusive(pid_file: str) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``pid_file`` so simultaneous starts cannot interleave."""
    if fcntl is None:
        yield
        return
    fd = os.open(pid_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def acquire_for(pid_dir: str, num_available: int = 1, kill_signal: int | None = None) -> bool:
    """Record this process in the pid file unless ``num_available`` live duplicates already run.

    With ``kill_signal``, running duplicates are signalled first and one more slot is allowed.
    Returns ``False`` (after printing which pids run) when the lock is taken.
    """
    my_pid, my_cmd, pid_file = get_info(pid_dir)

    try:
        os.mkdir(pid_dir)
        os.chmod(pid_dir, 0o700)
    except FileExistsError:
        pass

    with _exclusive(pid_file):
        pids = {pid for pid in _read_pids_file(pid_file) if getpcmd(pid) == my_cmd}

        if kill_signal is not None:
            for pid in pids:
                os.kill(pid, kill_signal)
            print(f"Sent kill signal to Pids: {pids}")
            num_available += 1

        if len(pids) >= num_available:
            print(f"Pid(s) {pids} already running")
            if kill_signal is not None:
                print(
                    'Note: There have (probably) been 1 other "--take-lock"'
                    " process which continued to run! Probably no need to run"
                    " this one as well."
                )
            return False

        _write_pids_file(pid_file, pids | {my_pid})
    return True


def _read_pids_file(pid_file: str) -> set[int]:
    """The pids listed one per line in ``pid_file`` (empty set if missing; garbage lines ignored)."""
    try:
        with open(pid_file) as fh:
            return {int(line) for line in fh if line.strip().isdigit()}
    except FileNotFoundError:
        return set()


def _write_pids_file(pid_file: str, pids_set: set[int]) -> None:
    """Overwrite ``pid_file`` with one pid per line.

    Luigi then adds ``0o777`` to the file's mode; that lets any user tamper with the lock in a
    shared directory, so here the bits are only added where nobody else can reach the file (a
    pid directory without group/other access, such as the one ``acquire_for`` creates).
    """
    with os.fdopen(os.open(pid_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), "w") as fh:
        fh.writelines(f"{pid}\n" for pid in sorted(pids_set))
    if os.name == "nt":
        return
    directory_mode = os.stat(os.path.dirname(os.path.abspath(pid_file))).st_mode
    file_stat = os.stat(pid_file)
    if not directory_mode & 0o077 and file_stat.st_uid == os.getuid():
        os.chmod(pid_file, file_stat.st_mode | 0o777)
