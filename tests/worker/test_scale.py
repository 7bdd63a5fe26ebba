"""Large-build economies of the worker: garbage-collector settings, shared per-class values."""

from __future__ import annotations

import gc

import pytest

import luigi
from tests.worker.conftest import make_worker

SEEN_THRESHOLDS: list = []
DONE: set = set()


class Probe(luigi.Task):
    """Records the collector's thresholds while it runs."""

    i = luigi.IntParameter()

    def complete(self):
        return self.i in DONE

    def run(self):
        SEEN_THRESHOLDS.append(gc.get_threshold())
        DONE.add(self.i)


class ProbeRoot(luigi.WrapperTask):
    n = luigi.IntParameter()

    def requires(self):
        SEEN_THRESHOLDS.append(gc.get_threshold())
        return [Probe(i=i) for i in range(self.n)]


class NotATaskRequirement(luigi.Task):
    def complete(self):
        return False

    def requires(self):
        return [42]


class Nested(luigi.Task):
    """Runs a whole build inside its own run(), like a task that launches a sub-pipeline."""

    def complete(self):
        return False

    def run(self):
        assert luigi.build([Probe(i=99)], local_scheduler=True, no_lock=True, no_progress=True)
        SEEN_THRESHOLDS.append(gc.get_threshold())


class Secret(luigi.Task):
    public = luigi.Parameter()
    hidden = luigi.Parameter(visibility=luigi.parameter.ParameterVisibility.HIDDEN)
    private = luigi.Parameter(visibility=luigi.parameter.ParameterVisibility.PRIVATE)

    def complete(self):
        return False


class Plain(luigi.Task):
    x = luigi.IntParameter()

    def complete(self):
        return False


@pytest.fixture
def thresholds():
    """The test's own collector thresholds, restored afterwards whatever happens."""
    saved = gc.get_threshold()
    SEEN_THRESHOLDS.clear()
    DONE.clear()
    gc.set_threshold(700, 10, 10)
    gc.collect()  # start from empty generation counts: earlier tests leave them anywhere
    yield (700, 10, 10)
    gc.set_threshold(*saved)


def test_full_collections_are_paused_during_the_build_and_restored_after(thresholds):
    assert luigi.build([ProbeRoot(n=3)], local_scheduler=True, no_lock=True, no_progress=True)
    assert len(SEEN_THRESHOLDS) >= 4  # requires() while adding, three leaves run
    young = thresholds[:2]
    assert all(seen[:2] == young and seen[2] > 10**6 for seen in SEEN_THRESHOLDS)
    assert gc.get_threshold() == thresholds


@pytest.fixture
def full_collections():
    """Generations of the collections that run while the fixture is active."""
    seen: list = []

    def record(phase, info):
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(record)
    yield seen
    gc.callbacks.remove(record)


def test_a_short_run_makes_no_full_collection(thresholds, full_collections):
    assert luigi.build([ProbeRoot(n=50)], local_scheduler=True, no_lock=True, no_progress=True)
    assert 2 not in full_collections


def test_a_long_run_makes_periodic_full_collections(thresholds, full_collections, monkeypatch):
    """A keep-alive worker or assistant runs for days: cyclic garbage that reached the oldest
    generation must not stay until run() returns."""
    monkeypatch.setattr(luigi.worker._NoFullCollections, "FULL_EVERY", 0.0)  # every run-loop turn
    assert luigi.build([ProbeRoot(n=5)], local_scheduler=True, no_lock=True, no_progress=True)
    assert full_collections.count(2) >= 5
    assert all(seen[2] > 10**6 for seen in SEEN_THRESHOLDS)  # still paused in between
    assert gc.get_threshold() == thresholds


def test_thresholds_restored_when_add_raises(thresholds, sch, emails):
    with make_worker(sch) as wk:
        with pytest.raises(Exception, match="requires\\(\\) must return Task objects"):
            wk.add(NotATaskRequirement())
    assert gc.get_threshold() == thresholds


def test_user_thresholds_and_disabled_collector_are_left_alone(thresholds):
    gc.set_threshold(500, 5, 2**31 - 1)
    assert luigi.build([ProbeRoot(n=1)], local_scheduler=True, no_lock=True, no_progress=True)
    assert set(SEEN_THRESHOLDS) == {(500, 5, 2**31 - 1)}
    gc.set_threshold(*thresholds)
    SEEN_THRESHOLDS.clear()
    gc.disable()
    try:
        assert luigi.build([ProbeRoot(n=1)], local_scheduler=True, no_lock=True, no_progress=True)
    finally:
        gc.enable()
    assert set(SEEN_THRESHOLDS) == {thresholds}
    assert gc.get_threshold() == thresholds


def test_nested_build_keeps_the_outer_builds_setting(thresholds):
    assert luigi.build([Nested()], local_scheduler=True, no_lock=True, no_progress=True)
    assert SEEN_THRESHOLDS[-1][2] > 10**6  # still paused for the rest of the outer run
    assert gc.get_threshold() == thresholds


def test_param_visibilities_are_per_class(sch):
    wk = make_worker(sch)
    wk.add(Secret(public="a", hidden="b", private="c"))
    wk.add(Plain(x=1))
    wk.add(Secret(public="d", hidden="e", private="f"))
    sent = {kw["task_id"]: kw["param_visibilities"] for name, _, kw in sch.calls if name == "add_task"}
    assert sent[Secret(public="a", hidden="b", private="c").task_id] == {"public": 0, "hidden": 1}
    assert sent[Secret(public="d", hidden="e", private="f").task_id] == {"public": 0, "hidden": 1}
    assert sent[Plain(x=1).task_id] == {"x": 0}
