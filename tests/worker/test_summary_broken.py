"""``luigi.build(..., detailed_summary=True)`` over tasks whose ``requires()`` raises."""

from __future__ import annotations

import luigi
from luigi.execution_summary import LuigiStatusCode


class BrokenRequires(luigi.Task):
    i = luigi.IntParameter()

    def requires(self):
        raise ValueError("cannot compute requirements")

    def complete(self):
        return False

    def run(self):
        raise AssertionError("a task that failed scheduling must never run")


class RootOfBroken(luigi.WrapperTask):
    def requires(self):
        return [BrokenRequires(i=1), BrokenRequires(i=2)]


def test_detailed_summary_reports_failed_scheduling_instead_of_crashing():
    result = luigi.build(
        [RootOfBroken()], local_scheduler=True, detailed_summary=True, no_lock=True, no_progress=True
    )
    assert result.status == LuigiStatusCode.SCHEDULING_FAILED
    assert result.scheduling_succeeded is False
    assert "* 2 failed scheduling:\n    - 2 BrokenRequires(i=1,2)" in result.summary_text
    assert "* 1 had dependencies whose scheduling failed:\n        - 1 RootOfBroken()" in result.summary_text
