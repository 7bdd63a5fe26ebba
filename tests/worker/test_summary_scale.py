"""The execution summary of big runs: exact text, computed without ``repr()`` of every task."""

from __future__ import annotations

import pytest

import luigi
from luigi import execution_summary
from luigi.task_register import Register

DONE: set = set()


@pytest.fixture(autouse=True)
def _nothing_done_yet():
    DONE.clear()


class Leaf(luigi.Task):
    i = luigi.IntParameter()

    def complete(self):
        return ("leaf", self.i) in DONE

    def run(self):
        DONE.add(("leaf", self.i))


class FanIn(luigi.Task):
    n = luigi.IntParameter()

    def requires(self):
        return [Leaf(i=i) for i in range(self.n)]

    def complete(self):
        return ("fanin", self.n) in DONE

    def run(self):
        DONE.add(("fanin", self.n))


class _RunsOnce(luigi.Task):
    def complete(self):
        return self.task_id in DONE

    def run(self):
        DONE.add(self.task_id)


class Str(_RunsOnce):
    s = luigi.Parameter()


class Sparse(_RunsOnce):
    i = luigi.IntParameter()


class Pair(_RunsOnce):
    a = luigi.IntParameter()
    b = luigi.Parameter()


class Custom(_RunsOnce):
    k = luigi.IntParameter()

    def __repr__(self):
        return f"Custom#{999 - self.k}"


class Two(_RunsOnce):
    s = luigi.Parameter()
    t = luigi.Parameter()


class Wrap(luigi.WrapperTask):
    def requires(self):
        yield from (Str(s=s) for s in ("a", "a!", "b", "a b", "a,"))
        yield from (Sparse(i=i) for i in range(0, 2000, 2))
        yield from (Pair(a=a, b=b) for a in range(5) for b in ("x", "y"))
        yield from (Custom(k=k) for k in (1, 2, 3, 5))


class Missing(luigi.ExternalTask):
    def complete(self):
        return False


class Blocked(luigi.Task):
    i = luigi.IntParameter()

    def requires(self):
        return [Missing(), Leaf(i=self.i)]

    def complete(self):
        return False

    def run(self):
        raise AssertionError("its external dependency is missing")


def _build(*tasks) -> execution_summary.LuigiRunResult:
    return luigi.build(list(tasks), local_scheduler=True, detailed_summary=True, no_lock=True, no_progress=True)


def _body(text: str) -> str:
    banner = "\n===== Luigi Execution Summary =====\n"
    assert text.startswith(banner + "\n") and text.endswith("\n" + banner)
    return text[len(banner) + 1 : -len(banner) - 1]


def test_fan_in_summary_does_not_repr_every_task(monkeypatch):
    result = _build(FanIn(n=2000))
    expected = (
        "Scheduled 2001 tasks of which:\n"
        "* 2001 ran successfully:\n"
        "    - 1 FanIn(n=2000)\n"
        "    - 2000 Leaf(i=0...1999)\n"
        "\n"
        "This progress looks :) because there were no failed tasks or missing dependencies"
    )
    assert _body(result.summary_text) == expected
    calls = []
    plain_repr = luigi.Task.__repr__

    def counting_repr(task):
        calls.append(task)
        return plain_repr(task)

    monkeypatch.setattr(luigi.Task, "__repr__", counting_repr)
    again = execution_summary.LuigiRunResult(result.worker)
    assert _body(again.summary_text) == expected
    assert len(calls) <= 4  # a spot check per family, not one per task


def test_family_lines_follow_str_order():
    """``")"`` sorts after ``" "`` and ``"!"`` but before ``","``; a custom ``__repr__`` decides the order."""
    result = _build(Wrap())
    assert _body(result.summary_text) == (
        "Scheduled 1020 tasks of which:\n"
        "* 1020 ran successfully:\n"
        "    - 4 Custom(k=5,3,2,1)\n"
        "    - 10 Pair(a=0, b=x) ...\n"
        "    - 1000 Sparse(i=0,10,100,1000,1002,1004,1006,1008,...)\n"
        "    - 5 Str(s=a b,a!,a,a,,b)\n"
        "    - 1 Wrap()\n"
        "\n"
        "This progress looks :) because there were no failed tasks or missing dependencies"
    )


def test_first_task_of_a_family_when_one_value_is_a_prefix_of_another():
    """``Two(s=a, b, t=y)`` sorts before ``Two(s=a, t=y)``: ``"b"`` < ``"t"`` after the shared ``"a, "``."""
    result = _build(*[Two(s=s, t=t) for s in ("a", "a, b", "a,") for t in ("z", "y")])
    assert _body(result.summary_text) == (
        "Scheduled 6 tasks of which:\n"
        "* 6 ran successfully:\n"
        "    - 6 Two(s=a, b, t=y) ...\n"
        "\n"
        "This progress looks :) because there were no failed tasks or missing dependencies"
    )


def test_pending_tasks_are_explained_when_requires_returns_new_objects():
    """Without the instance cache, ``requires()`` hands the summary objects the worker never saw."""
    Register.disable_instance_cache()
    try:
        result = _build(*[Blocked(i=i) for i in range(300)])
    finally:
        Register.clear_instance_cache()
    assert _body(result.summary_text) == (
        "Scheduled 601 tasks of which:\n"
        "* 300 ran successfully:\n"
        "    - 300 Leaf(i=0...299)\n"
        "* 301 were left pending, among these:\n"
        "    * 1 were missing external dependencies:\n"
        "        - 1 Missing()\n"
        "    * 300 had missing dependencies:\n"
        "        - 300 Blocked(i=0...299)\n"
        "\n"
        "This progress looks :| because there were missing external dependencies"
    )
    assert result.status == execution_summary.LuigiStatusCode.MISSING_EXT
    assert execution_summary._summary_dict(result.worker)["upstream_missing_dependency"] == {Blocked(i=i) for i in range(300)}
