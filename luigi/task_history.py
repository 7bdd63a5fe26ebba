"""Task history interface used by the scheduler (``Scheduler(task_history_impl=...)``).

The SQL implementation lives in ``luigi.db_task_history``; ``NopHistory`` is the default.
"""

from __future__ import annotations

import abc
import logging
from typing import Any

logger = logging.getLogger("luigi-interface")


class StoredTask:
    """A scheduler task record as seen by history back-ends.

    ``DbTaskHistory`` keeps one per task id for the server's lifetime, hence ``__slots__``."""

    __slots__ = ("_task", "status", "record_id", "host")

    def __init__(self, task: Any, status: str, host: str | None = None) -> None:
        self._task = task
        self.status = status
        self.record_id = None
        self.host = host

    @property
    def task_family(self) -> str:
        return self._task.family

    @property
    def parameters(self) -> dict:
        return self._task.params


class TaskHistory(metaclass=abc.ABCMeta):
    """Receives scheduling events (scheduled, started, finished) for each task."""

    @abc.abstractmethod
    def task_scheduled(self, task: Any) -> None:
        pass

    @abc.abstractmethod
    def task_finished(self, task: Any, successful: bool) -> None:
        pass

    @abc.abstractmethod
    def task_started(self, task: Any, worker_host: str | None) -> None:
        pass


class NopHistory(TaskHistory):
    """Records nothing."""

    def task_scheduled(self, task: Any) -> None:
        pass

    def task_finished(self, task: Any, successful: bool) -> None:
        pass

    def task_started(self, task: Any, worker_host: str | None) -> None:
        pass
