"""Shared fixtures for worker tests: a real in-process ``Scheduler`` that also records every call
the worker makes, and a recorder for error e-mails."""

from __future__ import annotations

import pytest


def make_recording_scheduler(**kwargs):
    """A real ``luigi.scheduler.Scheduler`` subclass instance that records worker calls."""
    from luigi.scheduler import Scheduler

    class RecordingScheduler(Scheduler):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.calls = []

        def add_task(self, *args, **kw):
            self.calls.append(("add_task", args, kw))
            return super().add_task(*args, **kw)

        def add_worker(self, *args, **kw):
            self.calls.append(("add_worker", args, kw))
            return super().add_worker(*args, **kw)

        def announce_scheduling_failure(self, *args, **kw):
            self.calls.append(("announce_scheduling_failure", args, kw))
            return super().announce_scheduling_failure(*args, **kw)

        def add_task_batcher(self, *args, **kw):
            self.calls.append(("add_task_batcher", args, kw))
            return super().add_task_batcher(*args, **kw)

        def added(self, status=None):
            """task ids of add_task calls (optionally only those with this status), in order."""
            return [
                kw["task_id"]
                for name, _, kw in self.calls
                if name == "add_task" and (status is None or kw.get("status") == status)
            ]

        def status(self, task_id):
            task = self._state.get_task(task_id)
            return None if task is None else task.status

    return RecordingScheduler(**kwargs)


@pytest.fixture
def sch():
    return make_recording_scheduler(
        retry_delay=100, remove_delay=1000, worker_disconnect_delay=1000, disable_persist=10
    )


@pytest.fixture
def emails(monkeypatch):
    """Every error e-mail the worker tries to send, as (subject, message, recipients)."""
    sent = []
    import luigi.notifications

    monkeypatch.setattr(
        luigi.notifications,
        "send_error_email",
        lambda subject, message, owners=(): sent.append((subject, message, owners)),
    )
    return sent


def make_worker(scheduler, **kwargs):
    """A worker that never sleeps long and does not touch SIGUSR1."""
    from luigi.worker import Worker

    kwargs.setdefault("wait_interval", 0.01)
    kwargs.setdefault("wait_jitter", 0.0)
    kwargs.setdefault("no_install_shutdown_handler", True)
    return Worker(scheduler=scheduler, **kwargs)
