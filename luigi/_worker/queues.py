"""The worker's result queue: a same-process fast path plus a lazily created
``multiprocessing.Queue`` for messages coming from task subprocesses.

Why: Luigi pushes every result through a ``multiprocessing.Queue`` even when the task ran in the
worker's own thread, paying pickling, a pipe round trip and a feeder thread per task. Here a put
from the consuming thread of the owning process lands in a deque; only subprocesses (and other
threads) use the pipe, and they write to it synchronously (``SimpleQueue``: no feeder thread to
start in every child, and a message can never be lost in a feeder thread). Subprocesses also use this queue to forward reporter calls
(:class:`ForwardedCall`) so that status messages, progress, tracking URLs and message responses
reach an in-process scheduler, which a child's copy of the scheduler could never update.
"""

from __future__ import annotations

import collections
import multiprocessing
import multiprocessing.connection
import os
import pickle
import queue
import threading
from typing import Any, Iterable

_pid = os.getpid()


def _refresh_pid() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_refresh_pid)


def current_pid() -> int:
    """``os.getpid()`` without a system call per use (kept right across fork)."""
    return _pid


class ForwardedCall:
    """A scheduler method call made in a task subprocess, to be replayed by the worker."""

    __slots__ = ("method", "args", "kwargs")

    def __init__(self, method: str, args: tuple, kwargs: dict) -> None:
        self.method = method
        self.args = args
        self.kwargs = kwargs

    def __getstate__(self) -> tuple:
        return (self.method, self.args, self.kwargs)

    def __setstate__(self, state: tuple) -> None:
        self.method, self.args, self.kwargs = state

    def __repr__(self) -> str:
        return f"ForwardedCall({self.method!r}, {self.args!r}, {self.kwargs!r})"


class ResultQueue:
    """Queue-like object (``put``/``get``/``get_nowait``/``empty``/``close``) shared by a worker and
    its task subprocesses.

    Results put by the consuming thread of the owner process go to a local deque (FIFO, no
    pickling). Everything else goes through a ``multiprocessing.Queue`` created on first need;
    :meth:`prepare_for_children` must run before a subprocess starts so the child inherits it.
    """

    def __init__(self) -> None:
        self._owner_pid = current_pid()
        self._local: collections.deque = collections.deque()
        self._mp: Any = None
        self._lock = threading.Lock()
        self._consumer: int | None = None  # thread ident of the consuming thread, once known
        self._closed = False

    # -- pickling (spawn/forkserver start methods) ------------------------------------------------
    def __getstate__(self) -> dict:
        self.prepare_for_children()
        return {"_owner_pid": self._owner_pid, "_mp": self._mp}

    def __setstate__(self, state: dict) -> None:
        self.__init__()
        self._owner_pid = state["_owner_pid"]
        self._mp = state["_mp"]

    # -- helpers -----------------------------------------------------------------------------------
    def in_child(self) -> bool:
        """True when called from a process other than the one that created the queue."""
        return _pid != self._owner_pid

    def prepare_for_children(self) -> None:
        """Create the inter-process channel (idempotent); call before starting a subprocess."""
        if self._mp is None:
            with self._lock:
                if self._mp is None:
                    self._mp = multiprocessing.SimpleQueue()

    def _is_local_put(self) -> bool:
        if _pid != self._owner_pid:
            return False
        consumer = self._consumer
        return consumer is None or consumer == threading.get_ident()

    # -- Queue interface ---------------------------------------------------------------------------
    def put(self, obj: Any, block: bool = True, timeout: float | None = None) -> None:
        if self._is_local_put():
            self._local.append(obj)
            return
        self.prepare_for_children()
        if self.in_child():
            obj = _ensure_picklable(obj)
        self._mp.put(obj)

    put_nowait = put

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        return self.wait_get(timeout if block else 0, ())

    def get_nowait(self) -> Any:
        return self.get(False)

    def wait_get(self, timeout: float | None, sentinels: Iterable[int] = ()) -> Any:
        """Return the next message, waiting at most ``timeout`` seconds (``None``: forever).

        Raises ``queue.Empty`` on timeout, and also early when one of ``sentinels`` (process
        sentinels) becomes ready, so the caller can notice dead children without polling.
        """
        if self.in_child():
            self.prepare_for_children()
            if not self._mp._reader.poll(timeout):
                raise queue.Empty
            return self._mp.get()
        self._consumer = threading.get_ident()
        if self._local:
            return self._local.popleft()
        self.prepare_for_children()
        reader = self._mp._reader
        ready = multiprocessing.connection.wait([reader, *sentinels], None if timeout is None else max(timeout, 0))
        if reader in ready:
            return self._mp.get()
        if self._local:  # put by another thread of this process while we waited
            return self._local.popleft()
        raise queue.Empty

    def has_local_message(self) -> bool:
        """A message put by this process's consuming thread is waiting (``wait_get`` returns it at once)."""
        return bool(self._local)

    def empty(self) -> bool:
        if self._local:
            return False
        return self._mp is None or self._mp.empty()

    def close(self) -> None:
        self._closed = True
        if self._mp is not None and not self.in_child():
            self._mp.close()


def _ensure_picklable(obj: Any) -> Any:
    """Replace unpicklable parts of a result tuple by their ``str`` so the message is never lost
    in the feeder thread (Luigi would drop it and wait forever)."""
    try:
        pickle.dumps(obj)
        return obj
    except Exception:
        if isinstance(obj, tuple):
            return tuple(_ensure_picklable(item) for item in obj)
        if isinstance(obj, list):
            return [_ensure_picklable(item) for item in obj]
        return str(obj)
