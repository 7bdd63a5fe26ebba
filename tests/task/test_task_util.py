"""``luigi.util``: parameter inheritance decorators, delegation, copying and date stepping.

Expected reprs were observed with real Luigi 3.8.1."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

import luigi
from luigi import util
from luigi.date_interval import Week


class P1(luigi.Task):
    a = luigi.Parameter()
    b = luigi.Parameter(default="bb")


class P2(luigi.Task):
    a = luigi.Parameter()
    z = luigi.Parameter(default="z")


def test_inherits_attaches_parameters_and_clone_parent():
    @util.inherits(P1)
    class R1(luigi.Task):
        d = luigi.Parameter(default="dd")

    assert R1.get_param_names() == ["a", "b", "d"]
    assert R1.a is P1.a
    assert repr(R1(a="1").clone_parent()) == "P1(a=1, b=bb)"
    assert R1(a="1").clone_parent() is P1(a="1")
    assert R1(a="1").clone_parents() == [P1(a="1")]


def test_inherits_keeps_existing_attributes():
    @util.inherits(P1)
    class Own(luigi.Task):
        b = luigi.Parameter(default="mine")

        def a(self):  # a method named like an inherited param wins too
            return "method"

    assert Own.get_param_names() == ["b"]
    assert Own().b == "mine"


def test_inherits_keyword_form_and_validation():
    @util.inherits(first=P1, second=P2)
    class R4(luigi.Task):
        pass

    assert R4(a="q").clone_parents() == {"first": P1(a="q"), "second": P2(a="q")}
    assert not hasattr(R4, "clone_parent")
    with pytest.raises(TypeError, match="^tasks_to_inherit or kw_tasks_to_inherit must contain at least one task$"):
        util.inherits()
    with pytest.raises(TypeError, match="^Only one of tasks_to_inherit or kw_tasks_to_inherit may be present$"):
        util.inherits(P1, k=P2)


def test_inherits_returns_the_same_class():
    class Same(luigi.Task):
        pass

    assert util.inherits(P1)(Same) is Same


def test_requires_forms():
    @util.requires(P1)
    class R2(luigi.Task):
        def requires(self):
            return "replaced by the decorator"

    @util.requires(P1, P2)
    class R3(luigi.Task):
        pass

    @util.requires(first=P1)
    class R5(luigi.Task):
        pass

    assert repr(R2(a="x").requires()) == "P1(a=x, b=bb)"
    assert R3.get_param_names() == ["a", "b", "z"]
    assert R3(a="q").requires() == [P1(a="q"), P2(a="q")]
    assert R5(a="q").requires() == {"first": P1(a="q")}
    decorator = util.requires()  # validation happens when applied
    with pytest.raises(TypeError, match="must contain at least one task"):
        decorator(R2)


def test_copies_copies_the_input_file():
    class Source(luigi.ExternalTask):
        def output(self):
            return luigi.LocalTarget("source.txt")

    @util.copies(Source)
    class Copy(luigi.Task):
        def output(self):
            return luigi.LocalTarget("copy.txt")

    Path("source.txt").write_text("one\ntwo\n")
    assert Copy.__name__ == "Copy" and Copy.task_family == "Copy"
    assert luigi.task_register.Register.get_task_cls("Copy") is Copy
    Copy().run()
    assert Path("copy.txt").read_text() == "one\ntwo\n"


def test_delegates():
    calls = []

    class Sub3(luigi.Task):
        def run(self):
            calls.append("sub-run")

        def requires(self):
            return [P1(a="dep")]

    @util.delegates
    class Del(luigi.Task):
        def subtasks(self):
            return [Sub3()]

        def requires(self):
            return P2(a="r")

        def run(self):
            calls.append("del-run")

    Del().run()
    assert (Del.__name__, Del.task_family) == ("Del", "Del")
    assert Del().deps() == [P2(a="r"), P1(a="dep")]
    assert calls == ["sub-run", "del-run"]
    with pytest.raises(AttributeError) as info:
        util.delegates(P1)
    assert str(info.value) == f"<class '{__name__}.P1'> needs to implement the method \"subtasks\""


def test_common_params():
    @util.inherits(P1)
    class R1(luigi.Task):
        d = luigi.Parameter(default="dd")

    assert util.common_params(R1(a="1", d="5"), P2) == {"a": "1"}
    assert list(util.common_params(R1(a="1"), P1)) == ["a", "b"]
    with pytest.raises(TypeError) as info:
        util.common_params(P1(a="1"), P1(a="1"))
    assert str(info.value) == "task_cls must be an uninstantiated Task"


class Dt(luigi.Task):
    date = luigi.DateParameter()
    other = luigi.Parameter(default="o")

    def output(self):
        return luigi.LocalTarget(f"dt-{self.date}")


class Dh(luigi.Task):
    dh = luigi.DateHourParameter()


class Dmin(luigi.Task):
    dm = luigi.DateMinuteParameter()


class Dsec(luigi.Task):
    ds = luigi.DateSecondParameter()


class Mo(luigi.Task):
    m = luigi.MonthParameter()


class DI(luigi.Task):
    di = luigi.DateIntervalParameter()


class Two(luigi.Task):
    a = luigi.DateParameter()
    b = luigi.DateHourParameter()


def test_previous():
    assert repr(util.previous(Dt(datetime.date(2020, 1, 1)))) == "Dt(date=2019-12-31, other=o)"
    assert repr(util.previous(Dh(datetime.datetime(2020, 1, 1)))) == "Dh(dh=2019-12-31T23)"
    assert repr(util.previous(Dmin(datetime.datetime(2020, 1, 1)))) == "Dmin(dm=2019-12-31T2359)"
    assert repr(util.previous(Dsec(datetime.datetime(2020, 1, 1)))) == "Dsec(ds=2019-12-31T235959)"
    assert repr(util.previous(Mo(datetime.date(2020, 3, 1)))) == "Mo(m=2020-02)"
    assert repr(util.previous(DI(Week(2020, 5)))) == "DI(di=2020-W04)"
    with pytest.raises(NotImplementedError) as info:
        util.previous(P1(a="1"))
    assert str(info.value) == "No task parameter - can't determine previous task"
    with pytest.raises(NotImplementedError) as info:
        util.previous(Two(datetime.date(2020, 1, 1), datetime.datetime(2020, 1, 1)))
    assert str(info.value) == "Too many date-related task parameters - can't determine previous task"


def test_get_previous_completed():
    start = Dt(datetime.date(2020, 1, 10))
    assert util.get_previous_completed(start, 3) is None
    Path("dt-2020-01-07").write_text("")
    assert util.get_previous_completed(start, 2) is None
    assert util.get_previous_completed(start, 3) == Dt(datetime.date(2020, 1, 7))
    assert util.get_previous_completed(start) == Dt(datetime.date(2020, 1, 7))


def test_copies_does_not_publish_a_partial_output():
    class Exploding:
        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            return False

        def __iter__(self):
            yield "one\n"
            raise OSError("disk gone")

    class BrokenTarget(luigi.Target):
        def exists(self):
            return True

        def open(self, mode="r"):
            return Exploding()

    class BrokenSource(luigi.ExternalTask):
        def output(self):
            return BrokenTarget()

    @util.copies(BrokenSource)
    class PartialCopy(luigi.Task):
        def output(self):
            return luigi.LocalTarget("partial.txt")

    with pytest.raises(OSError, match="disk gone"):
        PartialCopy().run()
    assert not Path("partial.txt").exists()
