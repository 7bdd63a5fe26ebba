"""The execution summary through the public API: ``luigi.build(..., detailed_summary=True)``."""

from __future__ import annotations

import pytest

import luigi
from luigi.execution_summary import LuigiRunResult, LuigiStatusCode


def _body(result: LuigiRunResult) -> str:
    """The summary text between the banners."""
    banner = "===== Luigi Execution Summary ====="
    text = result.summary_text
    assert text.startswith("\n" + banner + "\n\n") and text.endswith("\n\n" + banner + "\n")
    return text[len(banner) + 3 : -len(banner) - 3]


def _build(tasks, **kwargs) -> LuigiRunResult:
    return luigi.build(tasks, local_scheduler=True, detailed_summary=True, no_progress=True, **kwargs)


class A(luigi.Task):
    x = luigi.IntParameter()

    def output(self):
        return luigi.LocalTarget(f"a-{self.x}.txt")

    def run(self):
        self.output().open("w").close()


class B(luigi.Task):
    def run(self):
        raise RuntimeError("B fails")


class E(luigi.ExternalTask):
    def output(self):
        return luigi.LocalTarget("e-never.txt")


class C(luigi.Task):
    def requires(self):
        return [A(x=x) for x in range(10)] + [B(), E()]

    def run(self):
        raise AssertionError("C must not run")


def test_failed_external_and_dependent_example():
    result = _build([C()])
    assert _body(result) == (
        "Scheduled 13 tasks of which:\n"
        "* 10 ran successfully:\n"
        "    - 10 A(x=0...9)\n"
        "* 1 failed:\n"
        "    - 1 B()\n"
        "* 2 were left pending, among these:\n"
        "    * 1 were missing external dependencies:\n"
        "        - 1 E()\n"
        "    * 1 had failed dependencies:\n"
        "        - 1 C()\n"
        "    * 1 had missing dependencies:\n"
        "        - 1 C()\n"
        "\n"
        "This progress looks :( because there were failed tasks"
    )
    assert result.status == LuigiStatusCode.FAILED
    assert result.one_line_summary == "This progress looks :( because there were failed tasks"
    assert result.scheduling_succeeded is False
    assert str(result) == "LuigiRunResult with status LuigiStatusCode.FAILED"


class Done(luigi.Task):
    x = luigi.IntParameter()

    def complete(self):
        return True


def test_nothing_ran_example():
    result = _build([Done(x=x) for x in (1, 2, 3, 4, 7)])
    assert _body(result) == (
        "Scheduled 5 tasks of which:\n"
        "* 5 complete ones were encountered:\n"
        "    - 5 Done(x=1,2,3,4,7)\n"
        "\n"
        "Did not run any tasks\n"
        "This progress looks :) because there were no failed tasks or missing dependencies"
    )
    assert result.status == LuigiStatusCode.SUCCESS
    assert result.scheduling_succeeded is True


def _broken_family(name: str) -> type:
    def complete(self):
        raise RuntimeError(f"{name}.complete() is broken")

    return type(name, (luigi.Task,), {"complete": complete, "__module__": __name__})


BROKEN = [_broken_family(name) for name in ("FA", "FB", "FC", "FD", "FE", "FF", "FG")]


def test_truncation_after_summary_length_families():
    result = _build([cls() for cls in BROKEN])
    assert _body(result) == (
        "Scheduled 7 tasks of which:\n"
        "* 7 failed scheduling:\n"
        "    - 1 FA()\n"
        "    - 1 FB()\n"
        "    - 1 FC()\n"
        "    - 1 FD()\n"
        "    - 1 FE()\n"
        "    ...\n"
        "\n"
        "Did not run any tasks\n"
        "This progress looks :( because there were tasks whose scheduling failed"
    )
    assert result.status == LuigiStatusCode.SCHEDULING_FAILED
    assert result.scheduling_succeeded is False


def test_summary_length_zero_means_unlimited(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[execution_summary]\nsummary_length = 0\n")
    text = _body(_build([cls() for cls in BROKEN]))
    assert "    - 1 FG()\n" in text and "..." not in text


class Flaky(luigi.Task):
    """Fails on its first run and succeeds on the retry (state kept in a file)."""

    def output(self):
        return luigi.LocalTarget("flaky-done.txt")

    def run(self):
        marker = luigi.LocalTarget("flaky-failed-once.txt")
        if not marker.exists():
            marker.open("w").close()
            raise RuntimeError("first attempt fails")
        self.output().open("w").close()


def test_success_after_retry(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[scheduler]\nretry_delay = 0\n[worker]\nkeep_alive = true\nwait_interval = 0.01\nwait_jitter = 0\n")
    result = _build([Flaky()])
    assert result.status == LuigiStatusCode.SUCCESS_WITH_RETRY
    assert "* 1 ran successfully:\n    - 1 Flaky()\n" in result.summary_text
    assert "failed" not in _body(result).split("\n\n")[0]


class Many(luigi.Task):
    s = luigi.Parameter()

    def complete(self):
        return True


def test_one_parameter_list_is_elided_when_long():
    result = _build([Many(s=str(i) * 8) for i in range(6)])
    assert "    - 6 Many(s=00000000,11111111,22222222,33333333,...)\n" in result.summary_text


class TwoParams(luigi.Task):
    day = luigi.IntParameter()
    kind = luigi.Parameter()

    def complete(self):
        return True


def test_single_varying_parameter_among_several_is_shown_as_range():
    result = _build([TwoParams(day=d, kind="k") for d in range(3, 9)])
    assert "    - 6 TwoParams(day=3...8, kind=k)\n" in result.summary_text


def test_empty_run_did_not_schedule_any_tasks():
    result = _build([])
    assert _body(result) == "Did not schedule any tasks"
    assert result.status == LuigiStatusCode.SUCCESS


def test_build_returns_bool_without_detailed_summary():
    assert luigi.build([Done(x=1)], local_scheduler=True, no_progress=True) is True
    assert luigi.build([B()], local_scheduler=True, no_progress=True) is False


def test_repr_of_run_result():
    result = _build([Done(x=1)])
    assert repr(result) == f"LuigiRunResult(status=LuigiStatusCode.SUCCESS,worker={result.worker!r},scheduling_succeeded=True)"


class Chain(luigi.Task):
    n = luigi.IntParameter()

    def requires(self):
        return Chain(n=self.n - 1) if self.n > 0 else B()

    def run(self):
        raise AssertionError("never runs")


def test_deep_dependency_chain_does_not_hit_the_recursion_limit():
    import sys

    depth = sys.getrecursionlimit() + 200
    result = _build([Chain(n=depth)], workers=1)
    assert f"* {depth + 1} had failed dependencies:" in result.summary_text


@pytest.mark.parametrize("summary_length", [1, 3])
def test_summary_length_flag_truncates(summary_length, tmp_path):
    (tmp_path / "luigi.cfg").write_text(f"[execution_summary]\nsummary_length = {summary_length}\n")
    text = _body(_build([cls() for cls in BROKEN]))
    lines = [line for line in text.splitlines() if line.startswith("    - 1 F")]
    assert len(lines) == summary_length
    assert "    ...\n" in text
