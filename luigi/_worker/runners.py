"""Reusable task subprocesses ("runners") for ``workers > 1`` / ``force_multiprocessing``.

Why: Luigi forks one process per task. Forking a worker process that holds a large task graph
costs milliseconds (page tables, copy-on-write faults, teardown) and dominates the run time of
small tasks. A runner is forked once from the worker and then executes many tasks, one at a time,
each received as a pickled description; results and forwarded reporter calls travel over the
worker's shared result queue exactly as from a per-task subprocess.

A task only goes to a runner when it pickles; tasks that need a per-task message queue or have a
timeout, and custom ``TaskProcess`` classes, keep Luigi's fork-per-task path. A runner is retired
after :data:`MAX_TASKS_PER_RUNNER` tasks to bound state leaking between tasks, and replaced when it
dies or is terminated.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import pickle
import sys
import traceback
from typing import Any, Callable

MAX_TASKS_PER_RUNNER = 100

_RESULT_QUEUE_ID = "luigi-worker-result-queue"


class _Pickler(pickle.Pickler):
    """Pickles the shared result queue by reference: the runner already inherited it."""

    def __init__(self, file: io.BytesIO, result_queue: Any) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._result_queue = result_queue

    def persistent_id(self, obj: Any) -> str | None:
        return _RESULT_QUEUE_ID if obj is self._result_queue else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, result_queue: Any) -> None:
        super().__init__(file)
        self._result_queue = result_queue

    def persistent_load(self, pid: str) -> Any:
        if pid == _RESULT_QUEUE_ID:
            return self._result_queue
        raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")


def dumps(payload: Any, result_queue: Any) -> bytes:
    """Pickle a task description for a runner; raises if anything in it cannot be pickled."""
    buffer = io.BytesIO()
    _Pickler(buffer, result_queue).dump(payload)
    return buffer.getvalue()


def _runner_main(conn: Any, result_queue: Any, execute: Callable[[Any], None]) -> None:
    """Runner process body: execute task descriptions until the worker closes the connection.

    The working directory and environment are put back after each task, so a task that changes
    them does not affect the next one (as with a fresh fork per task)."""
    cwd = os.getcwd()
    environ = dict(os.environ)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:  # retired
            return
        task_id, blob = message
        try:
            execute(_Unpickler(io.BytesIO(blob), result_queue).load())
        except Exception:
            result_queue.put((task_id, "FAILED", traceback.format_exc(), [], []))
        _restore_process_state(cwd, environ)


def _restore_process_state(cwd: str, environ: dict) -> None:
    if os.getcwd() != cwd:
        os.chdir(cwd)
    if os.environ != environ:
        os.environ.clear()
        os.environ.update(environ)


class Runner:
    """One reusable subprocess and the pipe that feeds it task descriptions."""

    def __init__(self, result_queue: Any, execute: Callable[[Any], None]) -> None:
        self._conn, child_conn = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("fork").Process(
            target=_runner_main, args=(child_conn, result_queue, execute), name="luigi-task-runner", daemon=True
        )
        self.process.start()
        child_conn.close()
        self.tasks_run = 0

    def submit(self, task_id: str, blob: bytes) -> None:
        self.tasks_run += 1
        self._conn.send((task_id, blob))

    def retire(self) -> None:
        """Ask the runner to exit once idle (other processes may hold copies of the pipe, so an
        explicit stop message is sent rather than relying on EOF)."""
        if self._conn.closed:
            return
        try:
            self._conn.send(None)
        except OSError:
            pass
        self._conn.close()


class RunnerPool:
    """Idle runners of one worker; grows on demand up to the number of concurrently running tasks."""

    def __init__(self, result_queue: Any, execute: Callable[[Any], None], fork_lock: Any) -> None:
        self._result_queue = result_queue
        self._execute = execute
        self._fork_lock = fork_lock
        self._idle: list[Runner] = []
        self._all: list[Runner] = []

    def acquire(self) -> Runner:
        while self._idle:
            runner = self._idle.pop()
            if runner.process.is_alive():
                return runner
            self._forget(runner)
        with self._fork_lock:
            runner = Runner(self._result_queue, self._execute)
        self._all.append(runner)
        return runner

    def release(self, runner: Runner) -> None:
        """Return a runner after its task's result was handled (retire it if worn out or dead)."""
        if runner.process.is_alive() and runner.tasks_run < MAX_TASKS_PER_RUNNER:
            self._idle.append(runner)
        else:
            runner.retire()
            self._forget(runner)

    def discard(self, runner: Runner) -> None:
        """Forget a runner that was terminated."""
        runner.retire()
        self._forget(runner)

    def _forget(self, runner: Runner) -> None:
        if runner in self._all:
            self._all.remove(runner)
        if runner in self._idle:
            self._idle.remove(runner)

    def close(self) -> None:
        """Retire every runner and wait briefly for the idle ones to exit."""
        for runner in list(self._all):
            runner.retire()
        for runner in list(self._all):
            runner.process.join(1.0)
            if runner.process.is_alive():
                runner.process.kill()
                runner.process.join(1.0)
        self._all.clear()
        self._idle.clear()


def reuse_supported() -> bool:
    """Runners are forked, so they are used only where task subprocesses are forked too."""
    method = multiprocessing.get_start_method(allow_none=True)
    if method is None:  # not chosen yet: the platform default applies
        method = "fork" if sys.platform.startswith("linux") and sys.version_info < (3, 14) else "spawn"
    return method == "fork"
