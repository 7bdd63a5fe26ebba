"""Parameters as class attributes: class access, per-name instance storage, ordering, reuse."""

from __future__ import annotations

import pickle
import threading

import pytest

import luigi
from luigi import parameter as P


def test_class_access_returns_the_parameter_and_instances_hold_values():
    class DescBasic(luigi.Task):
        x = luigi.IntParameter(default=1)

    assert isinstance(DescBasic.x, luigi.IntParameter)
    task = DescBasic(x=5)
    assert task.x == 5 and DescBasic.x._attribute_name == "x"
    task.x = 6  # plain attribute overwrite; param_kwargs keep the constructor value
    assert task.x == 6 and task.param_kwargs["x"] == 5


def test_one_parameter_object_under_several_names():
    shared = luigi.Parameter(positional=False, default="d")

    class DescShared(luigi.Task):
        a = shared
        b = shared

    class DescSharedToo(luigi.Task):
        c = shared

    task = DescShared(a="1", b="2")
    assert (task.a, task.b) == ("1", "2")
    assert DescShared(a="3").b == "d"
    assert DescSharedToo(c="4").c == "4"
    assert [name for name, _ in DescShared.get_params()] == ["a", "b"]


def test_parameter_attached_after_class_creation():
    class DescLate(luigi.Task):
        x = luigi.IntParameter(default=1)

    DescLate.y = luigi.IntParameter(default=2)
    task = DescLate(x=3)
    assert (task.x, task.y) == (3, 2)
    assert DescLate(y=9).y == 9


def test_parameters_work_on_plain_classes():
    class Holder:
        p = luigi.IntParameter()

    holder = Holder()
    assert Holder.p is Holder.__dict__["p"]
    assert not hasattr(holder, "p")
    with pytest.raises(KeyError):
        holder.p  # noqa: B018
    holder.p = 5
    assert holder.p == 5 and pickle.loads(pickle.dumps(holder.__dict__)) == {"p": 5}


def test_declaration_order_follows_creation_counter():
    class DescF(luigi.Task):
        b = luigi.Parameter()
        a = luigi.Parameter()

    class DescG(DescF):
        c = luigi.Parameter()
        b = luigi.Parameter()

    assert [name for name, _ in DescG.get_params()] == ["a", "c", "b"]
    assert DescF.b._counter < DescF.a._counter < DescG.c._counter < DescG.b._counter
    first, second = luigi.Parameter(), luigi.Parameter()
    assert second._counter == first._counter + 1 and P.Parameter._counter == second._counter + 1


def test_counter_is_unique_under_threads():
    made = []

    def create():
        made.extend(luigi.Parameter() for _ in range(500))

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({p._counter for p in made}) == 2000


def test_constructor_keywords_are_stored():
    p = luigi.Parameter(
        "dflt", False, False, "desc", None, False, True, max, P.ParameterVisibility.HIDDEN
    )  # all positional on the base class
    assert p._default == "dflt" and p.significant is False and p.description == "desc"
    assert p.positional is False and p.always_in_help is True and p._batch_method is max
    assert p.visibility is P.ParameterVisibility.HIDDEN and p._config_path is None
    assert luigi.Parameter(visibility=7).visibility is P.ParameterVisibility.PUBLIC
    assert luigi.Parameter(visibility=1).visibility == 1


def test_visibility_enum():
    V = P.ParameterVisibility
    assert issubclass(V, int) and (V.PUBLIC, V.HIDDEN, V.PRIVATE) == (0, 1, 2)
    assert V.HIDDEN.serialize() == 1
    assert [V.has_value(v) for v in (0, 1, 2, 3, True, "0", [1])] == [True, True, True, False, True, False, False]


def test_sentinel():
    assert repr(P._no_value) == "<no_value>" and P._NoValueType() is P._no_value
    assert pickle.loads(pickle.dumps(P._no_value)) is P._no_value


def test_batch_parsing():
    p = luigi.IntParameter(batch_method=max)
    assert p._is_batchable() and p._parse_list(["7", "17", "5"]) == 17
    with pytest.raises(NotImplementedError, match="^No batch method found$"):
        luigi.IntParameter()._parse_list(["7"])
    with pytest.raises(ValueError, match="^Empty parameter list passed to parse_list$"):
        p._parse_list([])


def test_lookup_helpers():
    p = luigi.Parameter()
    assert [p._parse_or_no_value(x) for x in (None, "", False, "a")] == [P._no_value] * 3 + ["a"]
    assert P.Parameter._parser_global_dest("p", "ns.T") == "ns.T_p"


def test_module_exports():
    for name in (
        "Parameter OptionalParameter OptionalStrParameter DateParameter OptionalDateParameter MonthParameter "
        "YearParameter DateHourParameter DateMinuteParameter DateSecondParameter StrParameter IntParameter "
        "OptionalIntParameter FloatParameter OptionalFloatParameter BoolParameter OptionalBoolParameter "
        "DateIntervalParameter TimeDeltaParameter TaskParameter EnumParameter EnumListParameter DictParameter "
        "OptionalDictParameter ListParameter OptionalListParameter TupleParameter OptionalTupleParameter "
        "NumericalParameter OptionalNumericalParameter ChoiceParameter ChoiceListParameter "
        "OptionalChoiceParameter PathParameter OptionalPathParameter"
    ).split():
        cls = getattr(P, name)
        assert cls.__module__ == "luigi.parameter" and issubclass(cls, P.Parameter)
    for generic in (
        "Parameter",
        "TaskParameter",
        "EnumParameter",
        "EnumListParameter",
        "DictParameter",
        "ListParameter",
        "TupleParameter",
        "ChoiceParameter",
        "ChoiceListParameter",
        "OptionalChoiceParameter",
        "OptionalListParameter",
        "OptionalTupleParameter",
    ):
        assert getattr(P, generic)[int].__origin__ is getattr(P, generic)
    assert P.NumericalParameter[int].__origin__ is P.NumericalParameter
    assert P._UNIX_EPOCH.year == 1970 and P.FrozenOrderedDict is luigi.freezing.FrozenOrderedDict
    assert issubclass(P.MissingParameterException, P.ParameterException)
    assert issubclass(P.OptionalParameterTypeWarning, UserWarning)
    assert issubclass(P.UnconsumedParameterWarning, UserWarning)
