"""How a task gets parameter values it was not given: command line > config > config_path > default.

Uses real config files in the test's working directory (the suite fixture chdirs into tmp_path and
resets the config singleton) and real ``CmdlineParser.global_instance`` command lines.
"""

from __future__ import annotations

import datetime
import warnings

import pytest

import luigi
from luigi import parameter as P
from luigi.cmdline_parser import CmdlineParser
from luigi.freezing import FrozenOrderedDict


def write_cfg(tmp_path, text):
    (tmp_path / "luigi.cfg").write_text(text)


def test_order_constructor_cmdline_config_default(tmp_path):
    write_cfg(tmp_path, "[ResOrder]\nx = from_config\n")

    class ResOrder(luigi.Task):
        x = luigi.Parameter(default="from_default")
        y = luigi.Parameter(default="from_default")

    assert ResOrder().x == "from_config" and ResOrder().y == "from_default"
    assert ResOrder(x="ctor").x == "ctor"
    with CmdlineParser.global_instance(["ResOrder", "--ResOrder-x", "cmd_x", "--ResOrder-y", "cmd_y"]):
        task = ResOrder()
        assert (task.x, task.y) == ("cmd_x", "cmd_y")
        assert ResOrder(x="ctor").x == "ctor"
    assert ResOrder().x == "from_config"  # the command line no longer applies


def test_root_task_local_flag_only_reaches_the_root_object():
    class ResRoot(luigi.Task):
        x = luigi.Parameter(default="d")

    with CmdlineParser.global_instance(["ResRoot", "--x", "local", "--ResRoot-x", "global"]) as cp:
        assert cp.get_task_obj().x == "local"
        assert ResRoot().x == "global"


def test_empty_command_line_value_counts_as_absent(tmp_path):
    write_cfg(tmp_path, "[ResEmpty]\nx = cfg\n")

    class ResEmpty(luigi.Task):
        x = luigi.Parameter()

    with CmdlineParser.global_instance(["ResEmpty", "--ResEmpty-x", ""]):
        assert ResEmpty().x == "cfg"


def test_command_line_values_are_parsed():
    class ResTyped(luigi.Task):
        n = luigi.IntParameter(default=1)
        flag = luigi.BoolParameter()
        explicit = luigi.BoolParameter(default=True, parsing=luigi.BoolParameter.EXPLICIT_PARSING)
        day = luigi.DateParameter(default=datetime.date(2000, 1, 1))
        items = luigi.ListParameter(default=[])

    args = ["ResTyped", "--ResTyped-n", "7", "--ResTyped-flag", "--ResTyped-explicit", "false"]
    args += ["--ResTyped-day", "2013-07-10", "--ResTyped-items", "[1, [2]]"]
    with CmdlineParser.global_instance(args):
        task = ResTyped()
    assert task.n == 7 and task.flag is True and task.explicit is False
    assert task.day == datetime.date(2013, 7, 10) and task.items == (1, (2,))


def test_config_values_are_parsed_and_normalized(tmp_path):
    write_cfg(
        tmp_path,
        "[ResCfg]\n"
        "n = 5\n"
        "f = 0.5\n"
        "b = true\n"
        "day = 2013-07-10\n"
        "month = 2013-07\n"
        "delta = 1 d\n"
        'data = {"b": [1], "a": 2}\n'
        "items = [1, 2]\n"
        "pair = (1, 2)\n"
        "maybe =\n"
        "interval = 2015-W35\n",
    )

    class ResCfg(luigi.Task):
        n = luigi.IntParameter()
        f = luigi.FloatParameter()
        b = luigi.BoolParameter()
        day = luigi.DateParameter(interval=7, start=datetime.date(2013, 7, 1))
        month = luigi.MonthParameter()
        delta = luigi.TimeDeltaParameter()
        data = luigi.DictParameter()
        items = luigi.ListParameter()
        pair = luigi.TupleParameter()
        maybe = luigi.OptionalIntParameter(default=3)
        interval = luigi.DateIntervalParameter()

    t = ResCfg()
    assert (t.n, t.f, t.b) == (5, 0.5, True)
    assert t.day == datetime.date(2013, 7, 8)  # normalized onto the weekly grid
    assert t.month == datetime.date(2013, 7, 1) and t.delta == datetime.timedelta(days=1)
    assert t.data == FrozenOrderedDict(b=(1,), a=2) and list(t.data) == ["b", "a"]
    assert t.items == (1, 2) and t.pair == (1, 2) and t.maybe is None
    assert str(t.interval) == "2015-W35"
    assert t.to_str_params()["data"] == '{"b": [1], "a": 2}'


def test_dashed_config_key_is_read_with_a_deprecation_warning(tmp_path):
    write_cfg(tmp_path, "[ResDash]\nsome-param = 9\n")

    class ResDash(luigi.Task):
        some_param = luigi.IntParameter()

    with pytest.warns(
        DeprecationWarning, match=r"Configuration \[ResDash\] some-param \(with dashes\) should be avoided"
    ):
        assert ResDash().some_param == 9


def test_deprecated_config_path(tmp_path):
    write_cfg(tmp_path, "[old_section]\nold_name = legacy\n")

    class ResOld(luigi.Task):
        p = luigi.Parameter(config_path=dict(section="old_section", name="old_name"), default="d")
        q = luigi.Parameter(config_path=dict(section="old_section", name="absent"), default="d")

    message = r"^The use of the configuration \[old_section\] old_name is deprecated. Please use \[ResOld\] p$"
    with pytest.warns(DeprecationWarning, match=message):
        task = ResOld()
    assert task.p == "legacy" and task.q == "d"


def test_config_path_loses_to_the_task_section(tmp_path):
    write_cfg(tmp_path, "[old_section2]\nold_name = legacy\n[ResOld2]\np = modern\n")

    class ResOld2(luigi.Task):
        p = luigi.Parameter(config_path=dict(section="old_section2", name="old_name"))

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert ResOld2().p == "modern"


def test_invalid_config_path():
    with pytest.raises(
        P.ParameterException, match="^config_path must be a hash containing entries for section and name$"
    ):
        luigi.Parameter(config_path={"section": "s"})


def test_missing_value_messages():
    class ResMissing(luigi.Task):
        x = luigi.Parameter()

    with pytest.raises(
        P.MissingParameterException,
        match=r"^ResMissing\[args=\(\), kwargs=\{\}\]: requires the 'x' parameter to be set$",
    ):
        ResMissing()
    with pytest.raises(P.MissingParameterException, match="^No default specified$"):
        ResMissing.x.task_value("ResMissing", "x")
    assert ResMissing.x.has_task_value("ResMissing", "x") is False


def test_constructor_argument_errors():
    class ResArgs(luigi.Task):
        a = luigi.Parameter()
        b = luigi.Parameter()
        c = luigi.Parameter(positional=False, default="c")

    with pytest.raises(
        P.UnknownParameterException,
        match=r"^ResArgs\[args=\('1', '2', '3'\), kwargs=\{\}\]: takes at most 2 parameters \(3 given\)$",
    ):
        ResArgs("1", "2", "3")
    with pytest.raises(
        P.DuplicateParameterException,
        match=r"^ResArgs\[args=\('1',\), kwargs=\{'a': '2'\}\]: parameter a was already set as a positional parameter$",
    ):
        ResArgs("1", a="2")
    with pytest.raises(
        P.UnknownParameterException, match=r"^ResArgs\[args=\(\), kwargs=\{'zz': 1\}\]: unknown parameter zz$"
    ):
        ResArgs(zz=1)
    assert ResArgs("1", "2").c == "c"


def test_bad_config_value_is_reported_with_its_cause(tmp_path):
    write_cfg(tmp_path, "[ResBad]\nn = five\n")

    class ResBad(luigi.Task):
        n = luigi.IntParameter(default=1)

    with pytest.raises(
        ValueError, match=r"^ResBad\[args=\(\), kwargs=\{\}\]: Error when parsing the default value of 'n'$"
    ) as info:
        ResBad()
    assert isinstance(info.value.__cause__, ValueError)


def test_lookup_follows_config_changes(tmp_path):
    class ResLive(luigi.Task):
        n = luigi.IntParameter(default=1)

    assert ResLive().n == 1
    luigi.configuration.get_config().set("ResLive", "n", "2")
    assert ResLive.n.task_value("ResLive", "n") == 2
    assert ResLive.n.has_task_value("ResLive", "n")
    luigi.configuration.get_config().remove_option("ResLive", "n")
    assert ResLive.n.task_value("ResLive", "n") == 1


def test_default_is_normalized_but_not_parsed():
    class ResDefault(luigi.Task):
        n = luigi.IntParameter(default="7")  # not parsed: stays a string
        d = luigi.DictParameter(default={"a": [1]})

    task = ResDefault()
    assert task.n == "7" and task.d == FrozenOrderedDict(a=(1,))


def test_toml_config_native_values(tmp_path, monkeypatch):
    monkeypatch.setenv("LUIGI_CONFIG_PARSER", "toml")
    (tmp_path / "luigi.toml").write_text(
        "[ResToml]\n"
        "n = 5\n"
        "b = true\n"
        's = "text"\n'
        "data = {a = 1, b = [1, 2]}\n"
        "items = [1, 2]\n"
        "day = 2013-07-10\n"
        "maybe = 3\n"
    )

    class ResToml(luigi.Task):
        n = luigi.IntParameter()
        b = luigi.BoolParameter()
        s = luigi.Parameter()
        data = luigi.DictParameter()
        items = luigi.ListParameter()
        day = luigi.DateParameter()
        maybe = luigi.OptionalIntParameter()
        missing = luigi.IntParameter(default=4)

    t = ResToml()
    assert (t.n, t.b, t.s, t.maybe, t.missing) == (5, True, "text", 3, 4)
    assert t.data == {"a": 1, "b": (1, 2)} and t.items == (1, 2) and t.day == datetime.date(2013, 7, 10)


# --- construction-time type warnings ------------------------------------------------------------


def test_type_warnings_on_instantiation():
    class ResWarn(luigi.Task):
        plain = luigi.Parameter(default=5)
        delta = luigi.TimeDeltaParameter(default=5, significant=False)  # 5 cannot be serialized
        maybe_int = luigi.OptionalIntParameter(default="x")
        maybe_path = luigi.OptionalPathParameter(default=3)
        maybe_dict = luigi.OptionalDictParameter(default=[1])
        typed = luigi.IntParameter(default="not checked")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ResWarn.maybe_path.normalize = lambda x: x  # keep the int so the warning shows
        try:
            ResWarn()
        finally:
            del ResWarn.maybe_path.normalize
    messages = {(w.category, str(w.message)) for w in caught}
    assert (UserWarning, 'Parameter "plain" with value "5" is not of type string.') in messages
    assert (UserWarning, 'Parameter "delta" with value "5" is not of type timedelta.') in messages
    assert (
        P.OptionalParameterTypeWarning,
        'OptionalIntParameter "maybe_int" with value "x" is not of type "int" or None.',
    ) in messages
    assert (
        P.OptionalParameterTypeWarning,
        'OptionalPathParameter "maybe_path" with value "3" is not of any type in ["str", "Path"] or None.',
    ) in messages
    assert (
        P.OptionalParameterTypeWarning,
        'OptionalDictParameter "maybe_dict" with value "(1,)" is not of type "FrozenOrderedDict" or None.',
    ) in messages
    assert not any("typed" in text for _, text in messages)


def test_is_global_is_deprecated_and_not_positional():
    with pytest.warns(DeprecationWarning, match="^is_global support is removed. Assuming positional=False$"):
        p = luigi.Parameter(is_global=True)
    assert p.positional is False


def test_subclass_can_add_a_value_source(tmp_path):
    """``_value_iterator`` is the extension point: its first value that is not ``_no_value`` wins."""
    write_cfg(tmp_path, "[ResSource]\nx = cfg\ny = cfg\n")

    class EnvLikeParameter(luigi.Parameter):
        def _value_iterator(self, task_name, param_name):
            if param_name == "x":
                yield "extra-source", "extra source used"
            yield from super()._value_iterator(task_name, param_name)

    class ResSource(luigi.Task):
        x = EnvLikeParameter()
        y = EnvLikeParameter()

    with pytest.warns(DeprecationWarning, match="^extra source used$"):
        task = ResSource()
    assert (task.x, task.y) == ("extra-source", "cfg")
