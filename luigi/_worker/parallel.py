"""Completeness checks run in a pool of processes for ``add(task, multiprocess=True)``.

Why: Luigi builds a new ``Manager`` and ``Pool`` on every ``add()`` call, classifies pickled copies
of the tasks, and blocks forever when a task cannot be pickled (the error stays in an ignored
``AsyncResult``). Here one executor lives as long as the worker needs it, only the completeness
*value* travels back (the worker keeps classifying its own task objects), and any transport
failure (unpicklable task or result, a pool process that died) falls back to checking the task in
the worker's own process, so a result always arrives.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import queue
import sys
from typing import Any, Callable


class _Collector:
    """Minimal ``put``-only queue that keeps what ``check_complete`` puts on it."""

    def __init__(self) -> None:
        self.items: list = []

    def put(self, item) -> None:
        self.items.append(item)


def run_check(check: Callable, task, completion_cache) -> tuple:
    """Run the worker's ``check_complete`` synchronously and return its ``(task, value)``."""
    collector = _Collector()
    check(task, collector, completion_cache)
    return collector.items[0]


def _check_in_pool(task, completion_cache, check: Callable) -> Any:
    """Pool-side body: only the completeness value travels back, never a task copy."""
    return run_check(check, task, completion_cache)[1]


class ParallelChecker:
    """Submits completeness checks to a process pool and hands results back in arrival order."""

    def __init__(self, processes: int) -> None:
        self.processes = processes if processes > 0 else (os.cpu_count() or 1)
        context = multiprocessing.get_context("fork") if sys.platform != "win32" else None
        self._executor: concurrent.futures.ProcessPoolExecutor | None = concurrent.futures.ProcessPoolExecutor(
            max_workers=self.processes, mp_context=context
        )
        self._done: queue.SimpleQueue = queue.SimpleQueue()
        # A fork-context executor forks all its processes at the first submit; do that now, while
        # the caller holds the worker's fork_lock, rather than at an arbitrary later moment.
        self._executor.submit(int).result()

    def submit(self, task, completion_cache, check: Callable) -> None:
        """Start checking ``task``; its ``(task, value_or_None, future)`` appears in :meth:`next_result`."""
        executor = self._executor
        if executor is None:
            self._done.put((task, None, None))
            return
        try:
            future = executor.submit(_check_in_pool, task, completion_cache, check)
        except Exception:  # broken pool or shut down: check locally instead
            self._executor = None
            self._done.put((task, None, None))
            return
        future.add_done_callback(lambda f, t=task: self._done.put((t, None, f)))

    def next_result(self, completion_cache, check: Callable) -> tuple:
        """Block until one submitted check finished; return ``(task, value)``.

        A check whose transport failed is redone in this process with ``check``."""
        task, _, future = self._done.get()
        if future is not None:
            try:
                return task, future.result()
            except concurrent.futures.process.BrokenProcessPool:
                self._executor = None
            except Exception:
                pass
        return run_check(check, task, completion_cache)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
