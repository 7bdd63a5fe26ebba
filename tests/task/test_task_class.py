"""``luigi.Task``: parameters, construction errors, identity, repr, hooks, pickling and variants.

Expected strings/values were observed by running the same code under real Luigi 3.8.1."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import luigi
from luigi import task as task_module
from luigi.parameter import (
    DuplicateParameterException,
    MissingParameterException,
    ParameterVisibility,
    UnconsumedParameterWarning,
    UnknownParameterException,
)
from luigi.task_register import Register

REPO = Path(__file__).resolve().parents[2]


class U(luigi.Task):
    a = luigi.Parameter()
    b = luigi.Parameter()
    c = luigi.Parameter(positional=False, default="c")
    d = luigi.Parameter(significant=False, default="d")


class Written(luigi.Task):
    """A task whose output is a real file named after its parameter."""

    name = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(self.name)


# ------------------------------------------------------------------------------ parameter order


def test_params_follow_creation_order_and_redefinition_moves_to_end():
    class Base(luigi.Task):
        x = luigi.Parameter()
        y = luigi.IntParameter(default=1)

    class Sub(Base):
        x = luigi.Parameter(default="d")

    class Shadow(Base):
        y = 5

    assert Base.get_param_names() == ["x", "y"]
    assert Sub.get_param_names() == ["y", "x"]
    assert Shadow.get_param_names() == ["x"]
    assert Sub(1).y == 1  # positional order changed with the redefinition


def test_shared_parameter_object_keeps_alphabetical_order_among_its_names():
    shared = luigi.Parameter(positional=False, default="v")

    class Twice(luigi.Task):
        zeta = shared
        alpha = shared
        own = luigi.Parameter(default="o")

    assert Twice.get_param_names() == ["alpha", "zeta", "own"]
    t = Twice(zeta="z")
    assert (t.alpha, t.zeta) == ("v", "z")  # values are stored per attribute name


def test_get_params_returns_a_fresh_list():
    params = U.get_params()
    params.clear()
    assert [name for name, _ in U.get_params()] == ["a", "b", "c", "d"]


def test_parameter_attached_after_class_creation_is_seen():
    class Late(luigi.Task):
        a = luigi.Parameter()

    assert Late.get_param_names() == ["a"]
    Late(a="1")  # populate the per-class cache
    Late.b = luigi.Parameter(default="bee")
    assert Late.get_param_names() == ["a", "b"]
    assert Late(a="1").b == "bee"
    del Late.b
    assert Late.get_param_names() == ["a"]
    Late.a = "not a parameter any more"
    assert Late.get_param_names() == []


def test_param_names_significance_flag_and_batch_names():
    class Batch(luigi.Task):
        n = luigi.IntParameter(batch_method=max)
        m = luigi.IntParameter(default=0)

    assert U.get_param_names() == ["a", "b", "c"]
    assert U.get_param_names(include_significant=True) == ["a", "b", "c", "d"]
    assert Batch.batch_param_names() == ["n"]
    assert Batch(1).batchable is True
    assert U("1", "2").batchable is False


# ---------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("make", "exception", "message"),
    [
        (lambda: U(), MissingParameterException, "U[args=(), kwargs={}]: requires the 'a' parameter to be set"),
        (
            lambda: U("1", "2", "3", "4"),
            UnknownParameterException,
            "U[args=('1', '2', '3', '4'), kwargs={}]: takes at most 3 parameters (4 given)",
        ),
        (
            lambda: U("1", a="2"),
            DuplicateParameterException,
            "U[args=('1',), kwargs={'a': '2'}]: parameter a was already set as a positional parameter",
        ),
        (
            lambda: U(a="1", b="2", zz=3),
            UnknownParameterException,
            "U[args=(), kwargs={'a': '1', 'b': '2', 'zz': 3}]: unknown parameter zz",
        ),
    ],
)
def test_construction_errors_have_exact_messages(make, exception, message):
    with pytest.raises(exception) as info:
        make()
    assert str(info.value) == message


def test_get_param_values_with_list_args_and_error_in_default_lookup(tmp_path):
    assert U.get_param_values(U.get_params(), ["1"], {"b": 2}) == [("a", "1"), ("b", 2), ("c", "c"), ("d", "d")]

    class Num(luigi.Task):
        n = luigi.IntParameter()

    (tmp_path / "luigi.cfg").write_text("[Num]\nn = not-a-number\n")
    luigi.configuration.LuigiConfigParser._instance = None
    with pytest.raises(ValueError) as info:
        Num()
    assert str(info.value) == "Num[args=(), kwargs={}]: Error when parsing the default value of 'n'"
    assert isinstance(info.value.__cause__, ValueError)


def test_normalization_error_of_an_earlier_positional_surfaces_first():
    class Two(luigi.Task):
        x = luigi.ChoiceParameter(choices=["a"])

    with pytest.raises(ValueError):
        Two("not a choice", "extra")


def test_values_come_from_config_and_list_values_become_tuples(tmp_path):
    class FromCfg(luigi.Task):
        n = luigi.IntParameter()
        items = luigi.Parameter(default=[1, 2])

    (tmp_path / "luigi.cfg").write_text("[FromCfg]\nn = 42\n")
    luigi.configuration.LuigiConfigParser._instance = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = FromCfg()
    assert t.n == 42
    assert t.items == (1, 2)
    assert t.param_kwargs == {"n": 42, "items": (1, 2)}


def test_unconsumed_config_keys_warn_once_per_class(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[Unc]\na = 1\nzz-top = 2\n[Unc2]\na = 1\nzz_top = 3\nquiet = 4\n")
    luigi.configuration.LuigiConfigParser._instance = None

    class Unc(luigi.Task):
        a = luigi.IntParameter()

    class Unc2(Unc):
        ignore_unconsumed = {"quiet"}

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Unc()
        Unc()
        Unc2()
    messages = [str(w.message) for w in caught if w.category is UnconsumedParameterWarning]
    assert messages == [
        "The configuration contains the parameter 'zz_top' with value '2' that is not consumed by the task 'Unc'.",
        "The configuration contains the parameter 'zz_top' with value '3' that is not consumed by the task 'Unc2'.",
    ]
    assert Unc._unconsumed_params == {"Unc_zz_top"}
    assert U._unconsumed_params == set()  # exists even without a config section
    assert Unc2._unconsumed_params == {"Unc2_zz_top"}


def test_constructor_values_are_normalized_not_parsed():
    class I(luigi.Task):  # noqa: E742
        n = luigi.IntParameter()

    assert I("1").n == "1"
    assert I(1).task_id == I("1").task_id


def test_wrong_type_warning_for_plain_parameter():
    class Plain(luigi.Task):
        p = luigi.Parameter()

    with pytest.warns(UserWarning, match='Parameter "p" with value "5" is not of type string.'):
        Plain(5)


# -------------------------------------------------------------------------- instance members


def test_instance_members_after_construction():
    u = U("1", "2")
    assert repr(u) == "U(a=1, b=2, c=c)"
    assert u.task_id == "U_1_2_c_a4fb82e670"
    assert u.param_kwargs == {"a": "1", "b": "2", "c": "c", "d": "d"}
    with pytest.warns(DeprecationWarning, match="Use of param_args has been deprecated."):
        assert u.param_args == ("1", "2", "c", "d")
    assert u.to_str_params() == {"a": "1", "b": "2", "c": "c", "d": "d"}
    assert u.to_str_params(only_significant=True) == {"a": "1", "b": "2", "c": "c"}
    assert u._get_param_visibilities() == {"a": 0, "b": 0, "c": 0, "d": 0}
    assert (u.set_tracking_url, u.set_status_message, u.set_progress_percentage) == (None, None, None)
    assert not hasattr(u, "decrease_running_resources")
    assert not hasattr(u, "scheduler_messages")
    assert u.initialized()
    assert U.a is U.get_params()[0][1]  # class access gives the Parameter


def test_visibility_rules_for_repr_str_params_and_id():
    class Vis(luigi.Task):
        pub = luigi.Parameter(default="p")
        hid = luigi.Parameter(visibility=ParameterVisibility.HIDDEN, default="h")
        priv = luigi.Parameter(visibility=ParameterVisibility.PRIVATE, default="s")
        ins = luigi.Parameter(significant=False, default="i")

    v = Vis()
    assert repr(v) == "Vis(pub=p, hid=h, priv=s)"
    assert v.to_str_params() == {"pub": "p", "hid": "h", "ins": "i"}
    assert v.to_str_params(only_public=True) == {"pub": "p", "ins": "i"}
    assert v._get_param_visibilities() == {"pub": 0, "hid": 1, "ins": 0}
    assert v.task_id == luigi.task.task_id_str("Vis", {"pub": "p"})


def test_class_defaults_and_properties():
    u = U("1", "2")
    assert (luigi.Task.priority, luigi.Task.disabled, luigi.Task.resources) == (0, False, {})
    assert luigi.Task.worker_timeout is None
    assert luigi.Task.max_batch_size == float("inf")
    assert (u.retry_count, u.disable_hard_timeout, u.disable_window, u.owner_email) == (None, None, None, None)
    assert u._owner_list() == []
    assert u.use_cmdline_section is True
    assert bool(luigi.Task.use_cmdline_section)  # truthy when read on the class
    assert u.accepts_messages is False
    assert u.task_module == __name__
    assert luigi.Task.task_namespace == "__not_user_specified"
    with pytest.warns(DeprecationWarning) as caught:
        assert u.disable_window_seconds is None
    assert str(caught[0].message) == "Use of `disable_window_seconds` has been deprecated, use `disable_window` instead"


def test_owner_list_splits_strings_and_trims_spaces():
    class Own(luigi.Task):
        owner_email = "a@x, b@y"

    class OwnList(luigi.Task):
        owner_email = ["c@z"]

    assert Own()._owner_list() == ["a@x", "b@y"]
    assert OwnList()._owner_list() == ["c@z"]


def test_task_family_and_id_access():
    class MyTask(luigi.Task):
        task_namespace = "my_namespace"
        my_param = luigi.Parameter()

    t = MyTask(my_param="hello")
    assert str(t) == "my_namespace.MyTask(my_param=hello)"
    assert t.task_id == "my_namespace.MyTask_hello_890907e7ce"
    assert MyTask.task_family == t.task_family == MyTask.get_task_family() == "my_namespace.MyTask"
    with pytest.raises(AttributeError):
        MyTask.task_id  # noqa: B018


def test_default_api_methods():
    u = U("1", "2")
    assert (u.requires(), u.output(), u.deps(), u.input(), u._requires()) == ([], [], [], [], [])
    assert (u.run(), u.on_success(), u.process_resources()) == (None, None, {})
    with pytest.raises(task_module.BulkCompleteNotImplementedError):
        U.bulk_complete([1])
    assert isinstance(luigi.Task.__dict__["bulk_complete"], classmethod)
    try:
        raise ValueError("boom")
    except ValueError as exc:
        text = u.on_failure(exc)
    assert text.startswith("Runtime error:\nTraceback (most recent call last):")
    assert "ValueError: boom" in text


def test_complete_checks_outputs_and_warns_for_outputless_tasks():
    assert Written("out.txt").complete() is False
    Path("out.txt").write_text("x")
    assert Written("out.txt").complete() is True

    u = U("1", "2")
    with pytest.warns(UserWarning) as caught:
        assert u.complete() is False
    assert str(caught[0].message) == "Task U(a=1, b=2, c=c) without outputs has no custom complete() method"


def test_uninitialized_task_is_detectable():
    class BadInit(luigi.Task):
        def __init__(self, *args, **kwargs):
            pass

    assert BadInit().initialized() is False


def test_custom_init_runs_once_per_cache_key():
    calls = []

    class Counting(luigi.Task):
        x = luigi.Parameter()

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            calls.append(self.x)

    first = Counting("a")
    assert Counting(x="a") is first
    assert calls == ["a"]
    with pytest.raises(MissingParameterException):
        Counting()  # validated before __init__


def test_abstract_methods_are_honoured():
    import abc

    class Abstract(luigi.Task):
        @abc.abstractmethod
        def thing(self): ...

    class Concrete(Abstract):
        def thing(self):
            return 1

    with pytest.raises(TypeError):
        Abstract()
    assert Concrete().thing() == 1
    assert isinstance(Concrete(), luigi.Task)
    assert isinstance(Register, abc.ABCMeta.__class__) and issubclass(Register, abc.ABCMeta)


# -------------------------------------------------------------------------- clone and identity


def test_clone():
    u = U("1", "2")
    assert u.clone() is u
    assert repr(u.clone(a="9", zz=1)) == "U(a=9, b=2, c=c)"

    class Narrow(luigi.Task):
        a = luigi.Parameter()
        other = luigi.Parameter(default="o")

    assert repr(u.clone(Narrow)) == "Narrow(a=1, other=o)"


def test_equality_and_hash():
    u = U("1", "2")
    twin = U("1", "2", d="other")
    assert u == twin and u is not twin and hash(u) == hash(twin)
    assert u != 3 and not (u == None)  # noqa: E711
    with pytest.raises(TypeError):
        u < u  # noqa: B015

    @task_module._task_wraps(U)
    class SameFamily(U):
        pass

    assert SameFamily("1", "2").task_id == u.task_id
    assert SameFamily("1", "2") != u


def test_from_str_params():
    class Batch(luigi.Task):
        n = luigi.IntParameter(batch_method=max)

    assert repr(U.from_str_params({"a": "x", "b": "y", "junk": "1"})) == "U(a=x, b=y, c=c)"
    assert Batch.from_str_params({"n": ["1", "5", "3"]}) is Batch(5)
    with pytest.raises(NotImplementedError, match="No batch method found"):
        U.from_str_params({"a": ["x"], "b": "y"})
    with pytest.raises(ValueError, match="Empty parameter list passed to parse_list"):
        Batch.from_str_params({"n": []})


# -------------------------------------------------------------------------- pickling and hooks


def test_pickle_round_trip_gives_equal_task_outside_cache():
    u = U("1", "2")
    restored = pickle.loads(pickle.dumps(u))
    assert restored == u and restored is not u and hash(restored) == hash(u)
    assert restored.param_kwargs == u.param_kwargs
    shallow = copy.copy(u)
    assert shallow == u and shallow is not u


def test_unpickled_task_hash_matches_its_id_in_another_interpreter(tmp_path):
    module = tmp_path / "pickled_tasks_mod.py"
    module.write_text("import luigi\nclass PT(luigi.Task):\n    x = luigi.Parameter()\n")
    code = (
        "import pickle, sys; sys.path.insert(0, '.'); import pickled_tasks_mod as m;"
        "t = pickle.loads(bytes.fromhex(sys.argv[1])); print(hash(t) == hash(t.task_id), t == m.PT('v'))"
    )
    env = {"PYTHONPATH": str(REPO), "PYTHONHASHSEED": "1", "PATH": "/usr/bin:/bin"}
    make = subprocess.run(
        [sys.executable, "-c", code.split(";t =")[0] + ";print(pickle.dumps(m.PT('v')).hex())"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=True,
    )  # fmt: skip
    env["PYTHONHASHSEED"] = "2"
    check = subprocess.run(
        [sys.executable, "-c", code, make.stdout.strip()], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert check.stdout.split() == ["True", "True"], check.stderr


class Rep(luigi.Task):
    pass


def test_no_unpicklable_properties_replaces_and_restores_hooks():
    r = Rep()

    def hook(url):
        return url

    r.set_tracking_url = hook
    with r.no_unpicklable_properties():
        assert r.set_tracking_url == "placeholder_during_pickling"
        assert r.set_status_message == "placeholder_during_pickling"
        assert not hasattr(r, "scheduler_messages")
        pickle.dumps(r)
    assert r.set_tracking_url is hook and r.set_status_message is None

    with pytest.raises(RuntimeError):
        with r.no_unpicklable_properties():
            raise RuntimeError("body failed")
    assert r.set_tracking_url is hook  # restored even when the body raises


# ------------------------------------------------------------------------------------ variants


def test_externalize_class_and_instance():
    ext = task_module.externalize(Written)
    assert (ext.__name__, ext.__qualname__, ext.__module__) == ("Written", "Written", __name__)
    assert ext.run is None and Written.run is not None
    assert ext.task_family == "Written" and ext._visible_in_registry is False
    assert Register.get_task_cls("Written") is Written
    assert ext("f").task_id == Written("f").task_id
    assert ext("f") != Written("f")

    original = Written("f")
    external = task_module.externalize(original)
    assert external.run is None and original.run is not None
    assert external == original and external is not original
    assert external.param_kwargs == original.param_kwargs
    assert external.param_kwargs is not original.param_kwargs


def test_external_and_wrapper_tasks():
    class Ext(luigi.ExternalTask):
        def output(self):
            return luigi.LocalTarget("ext.txt")

    class Wrap(luigi.WrapperTask):
        def requires(self):
            return {"e": Ext()}

    class Empty(luigi.WrapperTask):
        pass

    assert Ext.run is None
    assert Empty().complete() is True
    assert Wrap().complete() is False
    Path("ext.txt").write_text("")
    assert Wrap().complete() is True


def test_config_class_reads_its_section(tmp_path):
    class cfgsection(luigi.Config):  # noqa: N801
        v = luigi.IntParameter(default=1)

    assert cfgsection().v == 1
    (tmp_path / "luigi.cfg").write_text("[cfgsection]\nv = 7\n")
    luigi.configuration.LuigiConfigParser._instance = None
    assert cfgsection().v == 7
    assert "cfgsection" in Register.task_names()


def test_mixin_naive_bulk_complete():
    class MB(task_module.MixinNaiveBulkComplete, luigi.Task):
        i = luigi.IntParameter()

        def complete(self):
            return self.i % 2 == 0

    assert MB.bulk_complete([1, 2, (4,), {"i": 6}, [7]]) == [2, (4,), {"i": 6}]
    assert MB.bulk_complete(iter([8])) == [8]


def test_dynamic_requirements():
    reqs = luigi.DynamicRequirements([Written("a"), {"k": Written("b")}])
    assert reqs.flat_requirements == [Written("a"), Written("b")]
    assert reqs.flat_requirements is reqs.flat_requirements
    paths = reqs.paths
    assert [p.path for p in (paths[0], paths[1]["k"])] == ["a", "b"]
    assert reqs.complete(lambda t: True) is True
    assert reqs.complete() is False

    seen = []
    custom = luigi.DynamicRequirements(Written("c"), custom_complete=lambda fn: seen.append(fn) or "custom")
    assert custom.complete() == "custom"
    assert custom._flat_requirements is None and custom._paths is None
    assert seen[0](Written("c")) is False  # the default checker calls task.complete()


def test_parameter_added_to_a_base_reaches_cached_subclasses():
    class Root(luigi.Task):
        a = luigi.Parameter(default="a")

    class Leaf(Root):
        pass

    assert Leaf().param_kwargs == {"a": "a"}
    Root.extra = luigi.Parameter(default="e")
    assert Leaf().param_kwargs == {"a": "a", "extra": "e"}
    assert Leaf.get_param_names() == ["a", "extra"]


def test_overridden_introspection_hooks_are_used():
    class Custom(luigi.Task):
        a = luigi.Parameter()
        hidden_from_get_params = luigi.Parameter(default="h")

        @classmethod
        def get_params(cls):
            return [p for p in super().get_params() if p[0] == "a"]

        @classmethod
        def get_param_values(cls, params, args, kwargs):
            values = super().get_param_values(params, args, kwargs)
            return [(name, value.upper()) for name, value in values]

    t = Custom("x")
    assert t.param_kwargs == {"a": "X"}
    assert Custom("x") is t and Custom("X") is t


def test_dataclass_transform_marker_for_type_checkers():
    if sys.version_info >= (3, 11):
        assert luigi.Task.__dataclass_transform__["kw_only_default"] is True
        assert luigi.Task.__dataclass_transform__["field_specifiers"] == (luigi.Parameter,)


def test_class_introspection_is_not_repeated_per_instantiation():
    class_reads = []

    class CountingParameter(luigi.IntParameter):
        def __get__(self, instance, owner=None):
            if instance is None:
                class_reads.append(owner)
            return super().__get__(instance, owner)

    class Counted(luigi.Task):
        n = CountingParameter()

    Counted(0)
    reads_for_first = len(class_reads)
    for i in range(1, 200):
        Counted(i)
        Counted(i)
    assert len(class_reads) == reads_for_first


def test_patched_base_constructor_is_called(monkeypatch):
    class Patched(luigi.Task):
        x = luigi.Parameter()

    original = luigi.Task.__init__
    seen = []

    def spy(self, *args, **kwargs):
        seen.append(args)
        original(self, *args, **kwargs)

    monkeypatch.setattr(luigi.Task, "__init__", spy)
    assert Patched("v").x == "v"
    assert seen == [("v",)]
