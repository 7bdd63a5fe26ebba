"""The per-class tables behind task construction, ids, ``to_str_params``, ``repr`` and ``flatten``.

Construction, ids and string forms of plain task classes come from tables computed once per class;
these tests check that what users observe is the same as the general algorithm, and that the
tables follow changes to classes and Parameter objects.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import luigi
from luigi import Event
from luigi.parameter import ParameterVisibility
from luigi.task import flatten, task_id_str
from luigi.task_register import Register


class Mixed(luigi.Task):
    z = luigi.Parameter()
    a = luigi.Parameter()
    m = luigi.Parameter(default="m")
    quiet = luigi.Parameter(significant=False, default="q")
    hidden = luigi.Parameter(visibility=ParameterVisibility.HIDDEN, default="h")
    secret = luigi.Parameter(visibility=ParameterVisibility.PRIVATE, default="s")
    e = luigi.Parameter(default="e")


def general_id(task):
    """The task id as the spec writes it, from ``to_str_params``."""
    return task_id_str(task.get_task_family(), task.to_str_params(only_significant=True, only_public=True))


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.text(max_size=30), min_size=7, max_size=7))
def test_ids_of_instances_follow_the_general_algorithm(values):
    z, a, m, quiet, hidden, secret, e = values
    task = Mixed(z=z, a=a, m=m, quiet=quiet, hidden=hidden, secret=secret, e=e)
    assert task.task_id == general_id(task)
    assert task.to_str_params(only_significant=True, only_public=True) == {"z": z, "a": a, "m": m, "e": e}
    assert hash(task) == hash(task.task_id)


def test_to_str_params_flavours_and_repr():
    task = Mixed("Z", "A")
    assert task.to_str_params() == {"z": "Z", "a": "A", "m": "m", "quiet": "q", "hidden": "h", "e": "e"}
    assert task.to_str_params(only_significant=True) == {"z": "Z", "a": "A", "m": "m", "hidden": "h", "e": "e"}
    assert task.to_str_params(only_public=True) == {"z": "Z", "a": "A", "m": "m", "quiet": "q", "e": "e"}
    assert repr(task) == "Mixed(z=Z, a=A, m=m, hidden=h, secret=s, e=e)"


def test_to_str_params_follows_param_kwargs():
    task = Mixed("Z", "A")
    task.param_kwargs = {"e": "E", "unknown": "u", "z": "Z"}  # order and content of param_kwargs rule
    assert list(task.to_str_params().items()) == [("e", "E"), ("z", "Z")]


def test_changing_parameter_flags_reaches_new_instances():
    flagged = luigi.Parameter(default="x")

    class Flags(luigi.Task):
        p = flagged
        q = luigi.Parameter(default="y")

    before = Flags()
    assert before.to_str_params(only_significant=True) == {"p": "x", "q": "y"}
    flagged.significant = False
    Register.clear_instance_cache()
    after = Flags()
    assert after.to_str_params(only_significant=True) == {"q": "y"}
    assert repr(after) == "Flags(q=y)"
    assert after.task_id == general_id(after) != before.task_id

    flagged.significant = True
    flagged.visibility = ParameterVisibility.HIDDEN
    Register.clear_instance_cache()
    hidden = Flags()
    assert hidden.to_str_params(only_public=True) == {"q": "y"}
    assert hidden.task_id == after.task_id  # hidden params do not enter the id either

    assert Flags.batch_param_names() == []
    flagged._batch_method = ",".join
    assert Flags.batch_param_names() == ["p"]
    assert Flags().batchable is True


def test_changing_positional_flag_changes_argument_mapping():
    first = luigi.Parameter(default="a")

    class Pos(luigi.Task):
        a = first
        b = luigi.Parameter(default="b")

    assert Pos("1").a == "1"
    first.positional = False
    assert Pos("1").param_kwargs == {"a": "a", "b": "1"}


def test_non_string_serialization_uses_json_encoding_of_the_value():
    class AsNumber(luigi.IntParameter):
        def serialize(self, x):
            return x  # a number: JSON-encoded in the hash, but it must not be in the summary

    class Numbers(luigi.Task):
        a = luigi.Parameter()
        b = luigi.Parameter()
        c = luigi.Parameter()
        n = AsNumber()

    task = Numbers("1", "2", "3", n=5)
    assert task.task_id == task_id_str("Numbers", {"a": "1", "b": "2", "c": "3", "n": 5})
    assert task.task_id == "Numbers_1_2_3_" + task.task_id.rsplit("_", 1)[1]

    class Summarized(luigi.Task):
        n = AsNumber()

    with pytest.raises(TypeError):  # as in Luigi: the summary slices the serialized value
        Summarized(n=5)


def test_overridden_value_sources_are_still_asked(tmp_path):
    calls = []

    class FromElsewhere(luigi.Parameter):
        def _get_value_from_config(self, section, name):
            calls.append((section, name))
            return "configured"

    class Sourced(luigi.Task):
        p = FromElsewhere()
        q = luigi.Parameter(default="plain")

    task = Sourced()
    assert (task.p, task.q) == ("configured", "plain")
    assert calls == [("Sourced", "p")]


def test_defaults_read_the_current_config_on_each_construction(tmp_path):
    class Late(luigi.Task):
        a = luigi.Parameter(default="default")
        b = luigi.IntParameter(default=1)

    assert Late().param_kwargs == {"a": "default", "b": 1}
    config = luigi.configuration.get_config()
    config.set("Late", "b", "7")
    assert Late().param_kwargs == {"a": "default", "b": 7}


def test_flatten_fast_path_returns_new_lists():
    class Leaf(luigi.Task):
        i = luigi.IntParameter()

    tasks = [Leaf(i) for i in range(20)]
    flat = flatten(tasks)
    assert flat == tasks and flat is not tasks
    assert flatten(tuple(tasks[:3])) == tasks[:3]
    assert flatten([]) == [] and flatten(()) == []
    mixed = tasks[:10] + [[tasks[10], None], {"k": tasks[11]}, "text"]
    assert flatten(mixed) == tasks[:12] + ["text"]


def test_flatten_of_objects_whose_class_is_unhashable():
    class UnhashableMeta(type):
        def __eq__(cls, other):
            return cls is other

        __hash__ = None

    class Odd(metaclass=UnhashableMeta):
        pass

    items = [Odd() for _ in range(10)]
    assert flatten(items) == items


def test_trigger_event_with_and_without_handlers():
    class Fired(luigi.Task):
        pass

    task = Fired()
    luigi.Task._event_callbacks.clear()
    assert task.trigger_event(Event.START, task) is None  # nothing registered at all
    seen = []
    Fired.event_handler(Event.START)(seen.append)
    task.trigger_event(Event.START, task)
    task.trigger_event(Event.SUCCESS, task)
    assert seen == [task]


def test_task_family_of_instances_follows_renamed_namespace():
    class Spaced(luigi.Task):
        task_namespace = "one"

    old = Spaced()
    assert old.task_family == "one.Spaced"
    Spaced.task_namespace = "two"
    assert old.task_family == Spaced.task_family == "two.Spaced"  # read from the class, like Luigi
    assert Spaced() is old  # the instance cache is keyed on parameter values only
    Register.clear_instance_cache()
    assert Spaced().task_id == "two.Spaced__99914b932b"


def test_renamed_class_gets_its_new_family():
    class Before(luigi.Task):
        pass

    task = Before()
    Before.__name__ = "After"
    assert task.task_family == Before.task_family == "After"
    Register.clear_instance_cache()
    assert Before().task_id == "After__99914b932b"
    assert Register.get_task_cls("After") is Before
