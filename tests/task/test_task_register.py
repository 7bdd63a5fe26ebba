"""``luigi.task_register``: namespaces, the class registry, name lookup errors, ``load_task`` and the
instance cache. Expected messages were observed with real Luigi 3.8.1."""

from __future__ import annotations

import datetime
import sys
import threading
import types

import pytest

import luigi
from luigi import task_register
from luigi.task_register import (
    Register,
    TaskClassAmbigiousException,
    TaskClassException,
    TaskClassNotFoundException,
    load_task,
)


@pytest.fixture
def registry():
    """A registry holding only the core task classes, restored afterwards."""
    saved = Register._reg
    Register._reg = [luigi.Task, luigi.Config, luigi.ExternalTask, luigi.WrapperTask]
    yield Register
    Register._reg = saved


# --------------------------------------------------------------------------------- namespaces


def test_namespace_resolution_rules():
    luigi.namespace("outer")

    class N1(luigi.Task):
        pass

    luigi.namespace("", scope=__name__)

    class N2(luigi.Task):  # an empty narrow scope does not override the broader one
        pass

    luigi.namespace("inner", scope=__name__)

    class N3(luigi.Task):
        pass

    luigi.namespace()
    luigi.namespace(scope=__name__)

    class N4(luigi.Task):
        pass

    luigi.auto_namespace(scope=__name__)

    class N5(luigi.Task):
        pass

    luigi.namespace(scope=__name__)

    class N6(luigi.Task):
        task_namespace = None

    class N7(N5):
        pass

    assert [c.task_family for c in (N1, N2, N3, N4, N5, N6, N7)] == [
        "outer.N1", "outer.N2", "inner.N3", "N4", f"{__name__}.N5", "N6", "N7",
    ]  # fmt: skip
    assert N5._namespace_at_class_time == "_same_as_python_module"
    assert N7._namespace_at_class_time == ""
    assert Register._default_namespace_dict == {"": "", __name__: ""}
    assert luigi.namespace("x") is None


def test_task_namespace_attribute_is_inherited_and_wins():
    luigi.namespace("ignored")

    class Explicit(luigi.Task):
        task_namespace = "explicit"

    class Child(Explicit):
        pass

    luigi.namespace()
    assert Child.task_family == "explicit.Child"
    assert Child.get_task_namespace() == "explicit"


def test_module_parents_and_get_namespace():
    assert list(Register._module_parents("a.b.c")) == ["a.b.c", "a.b", "a", ""]
    assert list(Register._module_parents("")) == [""]
    luigi.namespace("top", scope="x")
    assert Register._get_namespace("x.y") == "top"
    assert Register._get_namespace("xy") == ""


def test_changing_task_namespace_after_creation_changes_family_and_lookup(registry):
    class Moving(luigi.Task):
        pass

    assert registry.get_task_cls("Moving") is Moving
    Moving.task_namespace = "moved"
    assert Moving.task_family == "moved.Moving"
    assert registry.get_task_cls("moved.Moving") is Moving
    assert "Moving" not in registry.task_names()


# ----------------------------------------------------------------------------------- registry


def test_every_class_is_recorded_in_creation_order(registry):
    class First(luigi.Task):
        pass

    class Second(First):
        pass

    assert Register._reg[-2:] == [First, Second]


def test_subclass_with_same_family_replaces_base_and_unrelated_clash_is_ambiguous(registry):
    class Amb(luigi.Task):
        pass

    class Amb(luigi.Task):  # noqa: F811
        pass

    class Par(luigi.Task):
        pass

    base = Par

    class Par(Par):  # noqa: F811
        pass

    with pytest.raises(TaskClassAmbigiousException) as info:
        registry.get_task_cls("Amb")
    assert str(info.value) == "Task 'Amb' is ambiguous"
    assert isinstance(info.value, TaskClassException)
    assert registry.get_task_cls("Par") is Par and Par.__bases__ == (base,)
    assert "Amb" in registry.task_names()
    assert registry._get_reg()["Amb"] is Register.AMBIGUOUS_CLASS


def test_task_names_sorted_and_tasks_str(registry):
    class zeta(luigi.Task):  # noqa: N801
        pass

    class Alpha(luigi.Task):
        pass

    assert registry.task_names() == ["Alpha", "Config", "ExternalTask", "Task", "WrapperTask", "zeta"]
    assert registry.tasks_str() == "Alpha,Config,ExternalTask,Task,WrapperTask,zeta"
    names = registry.task_names()
    names.append("mutated")
    assert "mutated" not in registry.task_names()


def test_invisible_classes_are_not_looked_up(registry):
    class Hidden(luigi.Task):
        _visible_in_registry = False

    with pytest.raises(TaskClassNotFoundException):
        registry.get_task_cls("Hidden")


def test_missing_task_messages(registry):
    class smtp(luigi.Config):  # noqa: N801
        pass

    class email(luigi.Config):  # noqa: N801
        pass

    with pytest.raises(TaskClassNotFoundException) as info:
        registry.get_task_cls("WraperTask")
    assert str(info.value) == "No task WraperTask. Did you mean:\nWrapperTask"
    with pytest.raises(TaskClassNotFoundException) as info:
        registry.get_task_cls("smpt")
    assert str(info.value) == "No task smpt. Did you mean:\nsmtp\nemail"
    with pytest.raises(TaskClassNotFoundException) as info:
        registry.get_task_cls("zzzzzzzzzzzzzzzzzzzzzz")
    assert str(info.value) == (
        "No task zzzzzzzzzzzzzzzzzzzzzz. Candidates are: Config,ExternalTask,Task,WrapperTask,email,smtp"
    )


def test_editdistance():
    assert Register._editdistance("kitten", "sitting") == 3
    assert Register._editdistance("abc", "abc") == 0
    assert Register._editdistance("abc", "") == 3
    # characters are compared by equality, not identity
    assert Register._editdistance("".join(["é", "x"]), "éx") == 0


def test_get_all_params(registry):
    class WithSection(luigi.Task):
        p = luigi.Parameter()

    class NoSection(luigi.Config):
        use_cmdline_section = False
        q = luigi.IntParameter(default=1)

    class Dup(luigi.Task):
        r = luigi.Parameter()

    class Dup(luigi.Task):  # noqa: F811 (ambiguous families are skipped)
        r = luigi.Parameter()

    found = [(family, flag, name) for family, flag, name, _ in registry.get_all_params()]
    assert found == [("WithSection", False, "p"), ("NoSection", True, "q")]


def test_get_reg_set_reg_round_trip_keeps_ambiguous_and_invisible_classes(registry):
    class Clash(luigi.Task):
        pass

    first = Clash

    class Clash(luigi.Task):  # noqa: F811
        pass

    class Invisible(luigi.Task):
        _visible_in_registry = False

    snapshot = registry._get_reg()

    class Later(luigi.Task):
        pass

    registry._set_reg(snapshot)
    assert first in Register._reg and Clash in Register._reg and Invisible in Register._reg
    assert Later not in Register._reg
    with pytest.raises(TaskClassAmbigiousException):
        registry.get_task_cls("Clash")

    edited = registry._get_reg()
    del edited["Clash"]
    registry._set_reg(edited)  # an edited dict is taken literally
    assert Register._reg == [c for c in edited.values()]
    with pytest.raises(TaskClassNotFoundException):
        registry.get_task_cls("Clash")


def test_direct_replacement_of_reg_is_seen(registry):
    class Gone(luigi.Task):
        pass

    assert registry.get_task_cls("Gone") is Gone
    Register._reg = [luigi.Task]
    with pytest.raises(TaskClassNotFoundException):
        registry.get_task_cls("Gone")


def test_exception_hierarchy_and_names():
    assert issubclass(TaskClassNotFoundException, TaskClassException)
    assert issubclass(TaskClassAmbigiousException, TaskClassException)
    assert task_register.logger.name == "luigi-interface"


# ---------------------------------------------------------------------------------- load_task


def test_load_task_imports_module_and_parses_params(monkeypatch):
    module = types.ModuleType("task_model_load_me")
    monkeypatch.setitem(sys.modules, "task_model_load_me", module)
    exec("import luigi\nclass LoadMe(luigi.Task):\n    n = luigi.IntParameter()\n", module.__dict__)
    loaded = load_task("task_model_load_me", "LoadMe", {"n": "5"})
    assert repr(loaded) == "LoadMe(n=5)" and loaded.n == 5
    assert load_task(None, "LoadMe", {"n": "5"}) is loaded
    with pytest.raises(ModuleNotFoundError):
        load_task("no_such_module_for_task_model", "X", {})


def test_load_task_with_batched_list_params():
    class Batched(luigi.Task):
        n = luigi.IntParameter(batch_method=max)

    assert load_task(None, "Batched", {"n": ["3", "9", "1"]}).n == 9


# ------------------------------------------------------------------------------ instance cache


class Dated(luigi.Task):
    d = luigi.DateParameter()
    s = luigi.Parameter(significant=False, default="s")
    items = luigi.ListParameter(default=[1])


def test_equal_values_share_an_instance():
    a = Dated(datetime.date(2020, 1, 1))
    assert Dated(d=datetime.date(2020, 1, 1)) is a
    assert Dated(datetime.date(2020, 1, 1), items=[1]) is a
    other = Dated(datetime.date(2020, 1, 1), s="t")
    assert other is not a and other == a


@pytest.mark.filterwarnings("ignore:Parameter .* is not of type string")
def test_unhashable_values_bypass_the_cache():
    class Raw(luigi.Task):
        x = luigi.Parameter()

    assert Raw(x={"a": 1}) is not Raw(x={"a": 1})
    assert Raw(x=[1]) is Raw(x=[1]) and Raw(x=[1]).x == (1,)
    assert Raw(x=([1],)) is not Raw(x=([1],))


def test_subclasses_have_their_own_entries():
    class DatedChild(Dated):
        pass

    assert DatedChild(datetime.date(2020, 1, 1)) is not Dated(datetime.date(2020, 1, 1))


def test_disable_and_clear_instance_cache():
    Register.disable_instance_cache()
    assert Dated(datetime.date(2020, 1, 1)) is not Dated(datetime.date(2020, 1, 1))
    assert Dated(datetime.date(2020, 1, 1)) == Dated(datetime.date(2020, 1, 1))
    Dated.clear_instance_cache()
    first = Dated(datetime.date(2020, 1, 1))
    assert Dated(datetime.date(2020, 1, 1)) is first
    Register.clear_instance_cache()
    assert Dated(datetime.date(2020, 1, 1)) is not first


def test_changed_config_yields_a_new_instance(tmp_path):
    class Configured(luigi.Task):
        v = luigi.Parameter(default="code")

    before = Configured()
    (tmp_path / "luigi.cfg").write_text("[Configured]\nv = file\n")
    luigi.configuration.LuigiConfigParser._instance = None
    after = Configured()
    assert (before.v, after.v) == ("code", "file") and after is not before


def test_concurrent_creation_returns_one_instance():
    class Shared(luigi.Task):
        k = luigi.IntParameter()

    results = []
    barrier = threading.Barrier(8)

    def make():
        barrier.wait()
        results.append([Shared(k) for k in range(200)])

    threads = [threading.Thread(target=make) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(200):
        assert len({id(r[k]) for r in results}) == 1


def test_metaclass_task_family_property_wins_over_class_attribute():
    class Fam(luigi.Task):
        pass

    assert isinstance(Register.__dict__["task_family"], property)
    assert Fam.task_family == "Fam"
