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
    def output(self):
        return luigi.LocalTarget("b.txt")

    def run(self):
        raise RuntimeError("B fails")


class E(luigi.ExternalTask):
    def output(self):
        return luigi.LocalTarget("e-never.txt")


class C(luigi.Task):
    def requires(self):
        return [A(x=x) for x in range(10)] + [B(), E()]

    def output(self):
        return luigi.LocalTarget("c.txt")

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
    assert _body(result) == (
        "Scheduled 1 tasks of which:\n* 1 ran successfully:\n    - 1 Flaky()\n\n"
        "This progress looks :) because there were failed tasks but they all succeeded in a retry"
    )


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
    assert repr(result) == f"LuigiRunResult(status={LuigiStatusCode.SUCCESS!r},worker={result.worker!r},scheduling_succeeded=True)"


class Chain(luigi.Task):
    n = luigi.IntParameter()

    def requires(self):
        return Chain(n=self.n - 1) if self.n > 0 else B()

    def output(self):
        return luigi.LocalTarget(f"chain-{self.n}.txt")

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


class S(luigi.Task):
    s = luigi.IntParameter()

    def output(self):
        return luigi.LocalTarget(f"s-{self.s}.txt")

    def run(self):
        self.output().open("w").close()


class Wrapper(luigi.WrapperTask):
    n = luigi.IntParameter()

    def requires(self):
        return [S(s=i) for i in range(self.n)]


def _run_with_busy_workers(busy: int, total: int) -> LuigiRunResult:
    """Workers W0..W{busy-1} hold S(0..busy-1) on a shared scheduler; our worker needs S(0..total-1)."""
    sch = luigi.scheduler.Scheduler(prune_on_get_work=True, record_task_history=False)
    for i in range(busy):
        task_id = S(s=i).task_id
        sch.add_task(worker=f"W{i}", task_id=task_id, status="PENDING", family="S", params={"s": str(i)}, runnable=True)
        assert sch.get_work(worker=f"W{i}", host="elsewhere")["task_id"] == task_id

    class SharedScheduler(luigi.interface._WorkerSchedulerFactory):
        def create_local_scheduler(self):
            return sch

    return _build([Wrapper(n=total)], worker_scheduler_factory=SharedScheduler())


def test_task_run_by_another_worker():
    result = _run_with_busy_workers(1, 2)
    assert _body(result) == (
        "Scheduled 3 tasks of which:\n"
        "* 1 ran successfully:\n"
        "    - 1 S(s=1)\n"
        "* 2 were left pending, among these:\n"
        "    * 1 were being run by another worker:\n"
        "        - 1 S(s=0)\n"
        "    * 1 had dependencies that were being run by other worker:\n"
        "        - 1 Wrapper(n=2)\n"
        "\n"
        "The other workers were:\n"
        "    - W0 ran 1 tasks\n"
        "\n"
        "\n"
        "This progress looks :) because there were no failed tasks or missing dependencies"
    )
    assert result.status == LuigiStatusCode.SUCCESS


def test_more_than_five_other_workers_are_elided():
    text = _body(_run_with_busy_workers(7, 8))
    assert "    * 7 were being run by another worker:\n        - 7 S(s=0...6)\n" in text
    head, workers = text.split("The other workers were:\n")
    listed = workers.split("\n")
    assert [line[:7] for line in listed[:4]] == ["    - W"] * 4  # the scheduler's order of running tasks
    assert all(line.endswith(" ran 1 tasks") for line in listed[:4])
    assert listed[4:] == ["    and 3 other workers", "", "This progress looks :) because there were no failed tasks or missing dependencies"]


class Gated(luigi.Task):
    """``s=7`` needs a resource configured with zero capacity, so the scheduler never grants it."""

    s = luigi.Parameter()

    @property
    def resources(self):
        return {"gate": 1} if self.s == "7" else {}

    def output(self):
        return luigi.LocalTarget(f"gated-{self.s}.txt")

    def run(self):
        self.output().open("w").close()


def test_other_workers_and_not_granted_example(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[resources]\ngate = 0\n")
    sch = luigi.scheduler.Scheduler(prune_on_get_work=True, record_task_history=False)
    for i in range(7):
        task_id = Gated(s=str(i)).task_id
        sch.add_task(worker=f"W{i}", task_id=task_id, status="PENDING", family="Gated", params={"s": str(i)}, runnable=True)
        assert sch.get_work(worker=f"W{i}", host="elsewhere")["task_id"] == task_id

    class SharedScheduler(luigi.interface._WorkerSchedulerFactory):
        def create_local_scheduler(self):
            return sch

    result = _build([Gated(s=str(i)) for i in range(8)], worker_scheduler_factory=SharedScheduler())
    head, workers = _body(result).split("The other workers were:\n")
    assert head == (
        "Scheduled 8 tasks of which:\n"
        "* 8 were left pending, among these:\n"
        "    * 7 were being run by another worker:\n"
        "        - 7 Gated(s=0,1,2,3,4,5,6)\n"
        "    * 1 was not granted run permission by the scheduler:\n"
        "        - 1 Gated(s=7)\n"
        "\n"
    )
    listed = workers.split("\n")
    assert len(set(listed[:4])) == 4  # four distinct workers, in the scheduler's order
    assert all(line.startswith("    - W") and line.endswith(" ran 1 tasks") for line in listed[:4])
    assert listed[4:] == [
        "    and 3 other workers",
        "Did not run any tasks",
        "This progress looks :| because there were tasks that were not granted run permission by the scheduler",
    ]
    assert result.status == LuigiStatusCode.NOT_RUN
