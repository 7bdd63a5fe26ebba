"""Shared helpers for scheduler tests: a controllable clock and a scheduler factory."""

from __future__ import annotations

import pytest

from luigi.scheduler import Scheduler


class FakeClock:
    """Deterministic time source passed to ``Scheduler(clock=...)``."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_scheduler(clock):
    def factory(**kwargs) -> Scheduler:
        kwargs.setdefault("clock", clock)
        return Scheduler(**kwargs)

    return factory


@pytest.fixture
def sch(make_scheduler) -> Scheduler:
    return make_scheduler(retry_delay=100, remove_delay=1000, worker_disconnect_delay=10, disable_persist=10,
                          disable_window=10, retry_count=3, disable_hard_timeout=3600, stable_done_cooldown_secs=0)
