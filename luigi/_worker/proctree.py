"""Killing a task subprocess together with everything it started.

Why: Luigi needs the optional ``psutil`` to find grandchildren; without it they are orphaned and
keep running after a timeout. Here descendants are found with ``psutil`` when it is installed and
otherwise from ``/proc`` (Linux), and a process that ignores SIGTERM is killed after a grace period.
"""

from __future__ import annotations

import os
import signal

_GRACE_SECONDS = 2.0


def descendants(pid: int) -> list[int]:
    """Pids of all live descendants of ``pid`` (children first), best effort."""
    try:
        import psutil
    except ImportError:
        return _proc_descendants(pid)
    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def _proc_children(pid: int) -> list[int]:
    children: list[int] = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return children
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                children.extend(int(c) for c in fh.read().split())
        except OSError:
            continue
    return children


def _proc_descendants(pid: int) -> list[int]:
    found: list[int] = []
    stack = [pid]
    seen = {pid}
    while stack:
        for child in _proc_children(stack.pop()):
            if child not in seen:
                seen.add(child)
                found.append(child)
                stack.append(child)
    return found


def signal_all(pids: list[int], signum: int = signal.SIGTERM) -> None:
    """Send ``signum`` to each pid, ignoring processes that are already gone."""
    for pid in pids:
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            continue


def terminate_tree(process) -> None:
    """SIGTERM a started ``multiprocessing.Process`` and its descendants; SIGKILL what survives
    the grace period. The process is joined so its ``exitcode`` becomes available."""
    pid = process.pid
    if pid is None:
        return
    kids = descendants(pid)
    signal_all([pid] + kids, signal.SIGTERM)
    process.join(_GRACE_SECONDS)
    if process.is_alive():
        signal_all([pid], signal.SIGKILL)
        process.join(_GRACE_SECONDS)
    survivors = [k for k in kids if _alive(k)]
    signal_all(survivors, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True
