"""parse / serialize / normalize / next_in_enumeration of every parameter class.

Expected strings were observed on real Luigi 3.8.1; they end up in task ids, so they must match.
"""

from __future__ import annotations

import datetime
import enum
import operator
from pathlib import Path

import pytest

import luigi
from luigi import date_interval as di
from luigi import parameter as P
from luigi.freezing import FrozenOrderedDict

D = datetime.date
DT = datetime.datetime
TD = datetime.timedelta


class Color(enum.Enum):
    RED = 1
    GREEN = 2


# --- plain, str, int, float -------------------------------------------------------------------


def test_parameter_and_str_parameter():
    p = luigi.Parameter()
    assert p.parse("abc") == "abc" and p.serialize(5) == "5" and p.normalize([1]) == [1]
    assert p.next_in_enumeration("a") is None
    assert luigi.StrParameter().parse(5) == "5"


def test_int_and_float():
    ip = luigi.IntParameter()
    assert ip.parse(" 5 ") == 5 and ip.serialize(5) == "5" and ip.next_in_enumeration(5) == 6
    with pytest.raises(ValueError):
        ip.parse("5.0")
    fp = luigi.FloatParameter()
    assert fp.parse("1e20") == 1e20 and fp.serialize(1e20) == "1e+20" and fp.serialize(0.1) == "0.1"
    assert fp.next_in_enumeration(1.0) is None


# --- dates --------------------------------------------------------------------------------------


def test_date_parameter():
    p = luigi.DateParameter()
    assert p.parse("2013-07-10") == D(2013, 7, 10)
    assert p.parse("2013-7-1") == D(2013, 7, 1)  # strptime leniency
    with pytest.raises(ValueError, match="unconverted data remains"):
        p.parse("2013-07-10x")
    assert p.serialize(D(2013, 7, 10)) == "2013-07-10" and p.serialize(None) == "None"
    assert p.normalize(DT(2013, 7, 10, 19, 7)) == D(2013, 7, 10) and p.normalize(None) is None
    weekly = luigi.DateParameter(interval=7, start=D(2013, 7, 1))
    assert weekly.normalize(D(2013, 7, 10)) == D(2013, 7, 8)
    assert weekly.next_in_enumeration(D(2013, 7, 8)) == D(2013, 7, 15)
    assert luigi.DateParameter(interval=3).normalize(D(1970, 1, 5)) == D(1970, 1, 4)
    with pytest.raises(TypeError):
        p.normalize("2013-01-01")


def test_month_parameter():
    p = luigi.MonthParameter()
    assert p.parse("2013-07") == D(2013, 7, 1) and p.serialize(D(2013, 7, 1)) == "2013-07"
    assert p.normalize(D(2013, 7, 10)) == D(2013, 7, 1)
    assert p.normalize(DT(2013, 7, 10, 5)) == D(2013, 7, 1)
    assert p.normalize(di.Month(2013, 5)) == D(2013, 5, 1)
    assert p.next_in_enumeration(D(2013, 12, 1)) == D(2014, 1, 1)
    assert p._add_months(D(2013, 11, 5), 14) == D(2015, 1, 1)
    p5 = luigi.MonthParameter(interval=5, start=D(2013, 3, 15))
    assert p5.normalize(D(2013, 7, 10)) == D(2013, 3, 1)
    assert p5.normalize(D(2013, 2, 10)) == D(2012, 10, 1)


def test_year_parameter():
    p = luigi.YearParameter()
    assert p.parse("2013") == D(2013, 1, 1) and p.serialize(D(2013, 1, 1)) == "2013"
    assert p.normalize(di.Year(2011)) == D(2011, 1, 1)
    p3 = luigi.YearParameter(interval=3, start=D(2000, 6, 1))
    assert p3.normalize(D(2013, 7, 10)) == D(2012, 1, 1)
    assert p3.next_in_enumeration(D(2013, 7, 10)) == D(2016, 7, 10)


def test_datetime_parameters():
    value = DT(2013, 7, 10, 19, 7, 38, 999)
    hour, minute, second = luigi.DateHourParameter(), luigi.DateMinuteParameter(), luigi.DateSecondParameter()
    assert hour.serialize(value) == "2013-07-10T19"
    assert minute.serialize(value) == "2013-07-10T1907"
    assert second.serialize(value) == "2013-07-10T190738"
    assert hour.serialize(None) == "None"
    assert hour.parse("2013-07-10T19") == DT(2013, 7, 10, 19)
    assert minute.parse("2013-07-10T1907") == DT(2013, 7, 10, 19, 7)
    assert second.parse("2013-07-10T190738") == DT(2013, 7, 10, 19, 7, 38)
    with pytest.warns(DeprecationWarning, match='Using "H" between hours and minutes is deprecated, omit it instead.'):
        assert minute.parse("2013-07-10T19H07") == DT(2013, 7, 10, 19, 7)
    assert hour.normalize(DT(2013, 7, 10, 19, 5, 3, 22)) == DT(2013, 7, 10, 19)
    assert hour.normalize(D(2013, 7, 10)) == DT(2013, 7, 10) and hour.normalize(None) is None
    assert luigi.DateHourParameter(interval=4).normalize(DT(2013, 7, 10, 19, 5)) == DT(2013, 7, 10, 16)
    quarter = luigi.DateMinuteParameter(interval=15, start=DT(2000, 1, 1, 0, 5))
    assert quarter.normalize(DT(2013, 7, 10, 19, 7)) == DT(2013, 7, 10, 19, 5)
    tens = luigi.DateSecondParameter(interval=10)
    assert tens.normalize(value) == DT(2013, 7, 10, 19, 7, 30)
    assert tens.next_in_enumeration(DT(2013, 7, 10, 19, 7, 38)) == DT(2013, 7, 10, 19, 7, 48)


def test_datetime_parameter_accepts_timezone_aware_values():
    utc = datetime.timezone.utc
    assert luigi.DateHourParameter(interval=4).normalize(DT(2013, 7, 10, 19, 5, tzinfo=utc)) == DT(
        2013, 7, 10, 16, tzinfo=utc
    )


# --- bool ---------------------------------------------------------------------------------------


def test_bool_parameter():
    p = luigi.BoolParameter()
    assert p._default is False and luigi.BoolParameter(default=None)._default is None
    for text, value in (("true", True), ("False", False), ("TRUE", True), (True, True), (False, False)):
        assert p.parse(text) is value and p.normalize(text) is value
    for bad in ("1", "yes", "", None, 1):
        with pytest.raises(ValueError, match=f"cannot interpret '{bad}' as boolean"):
            p.parse(bad)
    assert p.normalize(None) is None
    assert p.serialize(True) == "True" and p.serialize(False) == "False"


def test_bool_normalize_warns_about_non_booleans():
    with pytest.warns(UserWarning, match="not a boolean"):
        assert luigi.BoolParameter().normalize("yes") is None


def test_bool_parser_kwargs():
    assert luigi.BoolParameter()._parser_kwargs("x", "T") == {"action": "store_true", "dest": "T_x"}
    explicit = luigi.BoolParameter(parsing=luigi.BoolParameter.EXPLICIT_PARSING)
    assert explicit._parser_kwargs("x") == {"action": "store", "dest": "x", "nargs": "?", "const": True}
    with pytest.raises(ValueError, match="unknown parsing value 'zzz'"):
        luigi.BoolParameter(parsing="zzz")._parser_kwargs("x")
    assert luigi.Parameter._parser_kwargs("x", "T") == {"action": "store", "dest": "T_x"}
    assert luigi.Parameter()._parser_kwargs("x") == {"action": "store", "dest": "x"}


def test_bool_parsing_class_default_is_read_at_construction(monkeypatch):
    monkeypatch.setattr(luigi.BoolParameter, "parsing", luigi.BoolParameter.EXPLICIT_PARSING)
    assert luigi.BoolParameter().parsing == "explicit"
    assert luigi.BoolParameter(parsing="implicit").parsing == "implicit"


# --- intervals and durations ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,kind",
    [
        ("2015", di.Year),
        ("2015-05", di.Month),
        ("2015-W35", di.Week),
        ("2015-11-04", di.Date),
        ("2015-11-04-2015-12-04", di.Custom),
    ],
)
def test_date_interval_parameter_round_trip(text, kind):
    p = luigi.DateIntervalParameter()
    value = p.parse(text)
    assert type(value) is kind and p.serialize(value) == text and p.normalize(value) is value


@pytest.mark.parametrize(
    "text,message",
    [
        ("2015-W60", "Invalid week"),
        ("2015-13", "month must be in 1..12"),
        ("garbage", "Invalid date interval - could not be parsed"),
        ("2015-W5", "Invalid date interval - could not be parsed"),
    ],
)
def test_date_interval_parameter_errors(text, message):
    with pytest.raises(ValueError, match=message):
        luigi.DateIntervalParameter().parse(text)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("5", TD(seconds=5)),
        ("1.5", TD(seconds=1.5)),
        ("-3", TD(seconds=-3)),
        ("1e3", TD(seconds=1000)),
        (" 7 ", TD(seconds=7)),
        ("P1W", TD(days=7)),
        ("P2DT3H", TD(days=2, hours=3)),
        ("PT4M", TD(minutes=4)),
        ("PT5S", TD(seconds=5)),
        ("1 week 2 days", TD(days=9)),
        ("1 h", TD(hours=1)),
        ("1w2d3h4m5s", TD(days=9, seconds=11045)),
        ("1 w 2 d 3 h 4 m 5 s", TD(days=9, seconds=11045)),
        ("2 weeks", TD(days=14)),
        ("1day", TD(days=1)),
        ("1 hours", TD(hours=1)),
        ("1 min", TD(minutes=1)),
        ("3 mins", TD(minutes=3)),
        ("4 secs", TD(seconds=4)),
        ("0 d", TD(0)),
        ("1 wk", TD(days=7)),
        ("1 hr", TD(hours=1)),
        # Zero ISO durations are accepted (Luigi rejected them).
        ("P0D", TD(0)),
        ("PT0S", TD(0)),
        # Every serialized value parses back, negative ones too.
        ("-1 w 6 d 23 h 59 m 57 s", TD(seconds=-3)),
    ],
)
def test_time_delta_parse(text, expected):
    assert luigi.TimeDeltaParameter().parse(text) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("P1W2D", TD(days=7)),
        ("5 days garbage", TD(days=5)),
        ("1 week, 2 days", TD(days=7)),
        ("2 hours 1 day", TD(hours=2)),
    ],
)
def test_time_delta_prefix_match_keeps_luigi_value_but_warns(text, expected):
    with pytest.warns(UserWarning, match="Ignoring trailing text"):
        assert luigi.TimeDeltaParameter().parse(text) == expected


@pytest.mark.parametrize("text", ["P1Y", "PT1.5S", "1.5 h", "1 H", " 1 h", "1  h", "", "abc", "nan", "inf", "1e300"])
def test_time_delta_parse_errors(text):
    with pytest.raises(P.ParameterException, match=f"^Invalid time delta - could not parse {text}$"):
        luigi.TimeDeltaParameter().parse(text)


@pytest.mark.parametrize(
    "value,text",
    [
        (TD(days=9), "1 w 2 d 0 h 0 m 0 s"),
        (TD(hours=1), "0 w 0 d 1 h 0 m 0 s"),
        (TD(seconds=-3), "-1 w 6 d 23 h 59 m 57 s"),
        (TD(0), "0 w 0 d 0 h 0 m 0 s"),
        (TD(days=1, seconds=3661), "0 w 1 d 1 h 1 m 1 s"),
        (TD(seconds=1, microseconds=500000), "0 w 0 d 0 h 0 m 1.5 s"),
    ],
)
def test_time_delta_serialize(value, text):
    p = luigi.TimeDeltaParameter()
    assert p.serialize(value) == text
    assert p.parse(text) == value


# --- tasks and enums ---------------------------------------------------------------------------------


def test_task_parameter():
    class ParamTarget(luigi.Task):
        task_namespace = "param_ns"

    p = luigi.TaskParameter()
    assert p.parse("param_ns.ParamTarget") is ParamTarget
    assert p.serialize(ParamTarget) == "param_ns.ParamTarget"
    assert p.normalize(ParamTarget) is ParamTarget
    with pytest.raises(Exception, match="No task NoSuchTaskAnywhere"):
        p.parse("NoSuchTaskAnywhere")


def test_enum_parameter():
    p = luigi.EnumParameter(enum=Color)
    assert p.parse("RED") is Color.RED and p.serialize(Color.GREEN) == "GREEN"
    with pytest.raises(ValueError, match="^Invalid enum value - could not be parsed$"):
        p.parse("BLUE")
    with pytest.raises(P.ParameterException, match="^An enum class must be specified.$"):
        luigi.EnumParameter()
    assert p.normalize(Color.RED) is Color.RED
    assert p.normalize("GREEN") is Color.GREEN  # a member name given in code becomes the member


def test_enum_list_parameter():
    p = luigi.EnumListParameter(enum=Color)
    assert p.parse("RED,GREEN,RED") == (Color.RED, Color.GREEN, Color.RED)
    assert p.parse("") == ()
    with pytest.raises(ValueError, match='^Invalid enum value " GREEN" index 1 - could not be parsed$'):
        p.parse("RED, GREEN")
    assert p.serialize((Color.RED, Color.GREEN)) == "RED,GREEN" and p.serialize(()) == ""
    with pytest.raises(P.ParameterException, match="^An enum class must be specified.$"):
        luigi.EnumListParameter()


# --- JSON containers -------------------------------------------------------------------------------


def test_dict_parameter():
    p = luigi.DictParameter()
    value = p.parse('{"b": [1, [2]], "a": {"x": 1}}')
    assert isinstance(value, FrozenOrderedDict) and list(value) == ["b", "a"]
    assert isinstance(value["a"], FrozenOrderedDict) and value["b"] == [1, [2]]
    normalized = p.normalize(value)
    assert normalized["b"] == (1, (2,))
    hash(normalized)
    assert p.serialize(normalized) == '{"b": [1, [2]], "a": {"x": 1}}'
    assert p.serialize({"b": (1, 2), "a": FrozenOrderedDict(x=1)}) == '{"b": [1, 2], "a": {"x": 1}}'
    assert p.serialize(p.normalize(p.parse('{"a": "\u00e9"}'))) == '{"a": "\\u00e9"}'
    assert p.parse("[1,2]") == [1, 2] and p.parse("null") is None
    assert p.parse({"a": 1}) == {"a": 1}  # native TOML tables pass through
    with pytest.raises(ValueError):
        p.parse("nope")


def test_list_parameter():
    p = luigi.ListParameter()
    assert p.parse('[1, [2, 3], {"a": [1]}]') == [1, [2, 3], {"a": [1]}]
    assert p.normalize([1, [2, {"a": [3]}]]) == (1, (2, FrozenOrderedDict(a=(3,))))
    assert p.serialize(p.normalize(p.parse('[1, [2, 3], {"a": [1]}]'))) == '[1, [2, 3], {"a": [1]}]'
    assert p.serialize(()) == "[]"
    assert p.parse("null") is None
    assert p.parse('"abc"') == ["a", "b", "c"] and p.parse('{"a": 1, "b": 2}') == ["a", "b"]
    assert p.normalize("abc") == "abc"
    with pytest.raises(TypeError):
        p.parse("5")
    with pytest.raises(ValueError):
        p.parse("(1,2)")
    assert p.parse([1, 2]) == [1, 2]  # native TOML arrays


@pytest.mark.parametrize(
    "text,expected",
    [
        ("((1,2),(3,4))", ((1, 2), (3, 4))),
        ("[[1,2],[3,4]]", ((1, 2), (3, 4))),
        ("[1,2]", (1, 2)),
        ("(1,2)", (1, 2)),
        ('("abcd",)', ("abcd",)),
        ('["ab","cd"]', ("ab", "cd")),
        ("[1,[2]]", (1, [2])),
        ("[]", ()),
        ("()", ()),
        ('{"a":1}', ("a",)),
    ],
)
def test_tuple_parameter_parse(text, expected):
    assert luigi.TupleParameter().parse(text) == expected


def test_tuple_parameter_errors_and_serialization():
    p = luigi.TupleParameter()
    with pytest.raises(ValueError, match="^Parsed result cannot be a string$"):
        p.parse('("abcd")')
    with pytest.raises(TypeError):
        p.parse("1")
    with pytest.raises(ValueError):
        p.parse("nope")
    assert p.serialize(p.normalize(p.parse("((1,2),(3,4))"))) == "[[1, 2], [3, 4]]"
    assert p.normalize(p.parse("[1,[2]]")) == (1, (2,))


def test_schema_without_jsonschema_warns_and_is_dropped(monkeypatch):
    monkeypatch.setattr(P, "_JSONSCHEMA_ENABLED", False)
    message = (
        "The 'jsonschema' package is not installed so the parameter can not be validated even though a schema is given."
    )
    for cls in (luigi.DictParameter, luigi.ListParameter, luigi.TupleParameter):
        with pytest.warns(UserWarning, match=message.replace("(", r"\(")):
            assert cls(schema={"type": "object"}).schema is None


class _RecordingValidator:
    """A validator object (like jsonschema.Draft4Validator): has ``validate(instance)``."""

    def __init__(self):
        self.seen = []

    def validate(self, instance):
        self.seen.append(instance)
        if "bad" in instance:
            raise ValueError("bad value")
        if isinstance(instance, dict):
            instance.setdefault("filled", 1)


def test_schema_validator_object_sees_unfrozen_value(monkeypatch):
    monkeypatch.setattr(P, "_JSONSCHEMA_ENABLED", True)
    validator = _RecordingValidator()
    p = luigi.DictParameter(schema=validator)
    result = p.normalize(FrozenOrderedDict(a=(1, FrozenOrderedDict(b=2))))
    assert validator.seen == [{"a": [1, {"b": 2}], "filled": 1}]
    assert type(validator.seen[0]) is dict and type(validator.seen[0]["a"]) is list
    assert result == FrozenOrderedDict(a=(1, FrozenOrderedDict(b=2)), filled=1)
    with pytest.raises(ValueError, match="bad value"):
        p.normalize({"bad": 1})
    lp = luigi.ListParameter(schema=_RecordingValidator())
    assert lp.normalize([1, [2]]) == (1, (2,))
    assert lp.schema.seen == [[1, [2]]]


def test_validator_attribute_error_is_not_mistaken_for_a_dict_schema(monkeypatch):
    monkeypatch.setattr(P, "_JSONSCHEMA_ENABLED", True)

    class Broken:
        def validate(self, instance):
            raise AttributeError("bug inside the validator")

    with pytest.raises(AttributeError, match="bug inside the validator"):
        luigi.DictParameter(schema=Broken()).normalize({"a": 1})


def test_dict_schema_uses_jsonschema_validate(monkeypatch):
    calls = []

    class FakeJsonSchema:
        @staticmethod
        def validate(instance, schema):
            calls.append((instance, schema))

    monkeypatch.setattr(P, "_JSONSCHEMA_ENABLED", True)
    monkeypatch.setattr(P, "jsonschema", FakeJsonSchema, raising=False)
    schema = {"type": "object"}
    assert luigi.DictParameter(schema=schema).normalize(FrozenOrderedDict(a=(1,))) == {"a": (1,)}
    assert calls == [({"a": [1]}, schema)]


# --- numerical, choices, paths -------------------------------------------------------------------


def test_numerical_parameter():
    p = luigi.NumericalParameter(var_type=int, min_value=-3, max_value=7)
    assert p.description == "permitted values: int in [-3, 7)" and p._permitted_range == "int in [-3, 7)"
    assert p.parse("-3") == -3 and p.normalize(100) == 100 and p.next_in_enumeration(1) is None
    with pytest.raises(ValueError, match=r"^7 is not in the set of int in \[-3, 7\)$"):
        p.parse("7")
    f = luigi.NumericalParameter(
        var_type=float, min_value=-3, max_value=7, left_op=operator.lt, right_op=operator.le, description="Desc"
    )
    assert f.description == "Desc permitted values: float in (-3, 7]"
    assert f.parse("7") == 7.0
    with pytest.raises(ValueError, match=r"^-3 is not in the set of float in \(-3, 7\]$"):
        f.parse("-3")
    for kwargs, message in (
        ({"min_value": 1, "max_value": 2}, "var_type must be specified"),
        ({"var_type": int, "max_value": 2}, "min_value must be specified"),
        ({"var_type": int, "min_value": 1}, "max_value must be specified"),
    ):
        with pytest.raises(P.ParameterException, match=f"^{message}$"):
            luigi.NumericalParameter(**kwargs)


def test_choice_parameter():
    p = luigi.ChoiceParameter(choices=["a", "b", "c"], description="D")
    assert p.description == "D Choices: {a, b, c}"  # in the order given
    assert p._choices == {"a", "b", "c"} and p._var_type is str
    assert p.parse("a") == "a" and p.serialize("a") == "a"
    with pytest.raises(ValueError, match=r"^d is not a valid choice from \{'a', 'b', 'c'\}$"):
        p.normalize("d")
    assert luigi.ChoiceParameter(choices=[0.1, 0.2], var_type=float).parse("0.10") == 0.1
    with pytest.raises(P.ParameterException, match="^A choices iterable must be specified$"):
        luigi.ChoiceParameter()
    with pytest.raises(AssertionError, match="Invalid type in choices"):
        luigi.ChoiceParameter(choices=[1, "a"])
    empty = luigi.ChoiceParameter(choices=[])
    assert empty.description == "Choices: {}"
    with pytest.raises(ValueError, match=r"^z is not a valid choice from set\(\)$"):
        empty.normalize("z")


def test_choice_list_parameter():
    p = luigi.ChoiceListParameter(choices=["a", "b", "c"])
    assert p.parse("a,b,a") == ("a", "b", "a") and p.parse("") == ()
    assert p.normalize(["b", "a"]) == ("b", "a")
    assert p.serialize(("a", "b")) == "a,b" and p._sep == ","
    with pytest.raises(ValueError, match=r"^z is not a valid choice from \{'a'\}$"):
        luigi.ChoiceListParameter(choices=["a"]).parse("a,z")
    ints = luigi.ChoiceListParameter(var_type=int, choices=[1, 2])
    assert ints.parse("2,1") == (2, 1) and ints.serialize((2, 1)) == "2,1"


def test_path_parameter(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = luigi.PathParameter()
    assert p.normalize("a/b") == Path("a/b") and p.serialize(Path("a/b")) == "a/b"
    assert luigi.PathParameter(absolute=True).normalize("x") == tmp_path / "x"
    exists = luigi.PathParameter(exists=True)
    assert exists.normalize(str(tmp_path)) == tmp_path
    with pytest.raises(ValueError, match=f"^The path {tmp_path / 'missing'} does not exist.$"):
        exists.normalize(tmp_path / "missing")


# --- optional variants -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls,expected_type",
    [
        (luigi.OptionalParameter, str),
        (luigi.OptionalStrParameter, str),
        (luigi.OptionalIntParameter, int),
        (luigi.OptionalFloatParameter, float),
        (luigi.OptionalBoolParameter, bool),
        (luigi.OptionalDateParameter, datetime.date),
        (luigi.OptionalDictParameter, FrozenOrderedDict),
        (luigi.OptionalListParameter, tuple),
        (luigi.OptionalTupleParameter, tuple),
        (luigi.OptionalPathParameter, (str, Path)),
    ],
)
def test_optional_variants_default_to_none_and_write_none_as_empty(cls, expected_type):
    p = cls()
    assert p._default is None and p.expected_type == expected_type
    assert p.parse("") is None and p.serialize(None) == "" and p.normalize(None) is None
    assert p.parse(17) == 17  # non-strings (TOML) pass through
    assert p.next_in_enumeration(1) is None


def test_optional_variants_delegate_non_empty_values():
    assert luigi.OptionalIntParameter().parse("5") == 5 and luigi.OptionalIntParameter().serialize(5) == "5"
    assert luigi.OptionalListParameter().parse("[1]") == [1]
    assert luigi.OptionalTupleParameter().parse("[[1]]") == ((1,),)
    assert luigi.OptionalDictParameter().parse('{"a": 1}') == {"a": 1}
    assert luigi.OptionalPathParameter().normalize("a") == Path("a")
    assert luigi.OptionalBoolParameter(default=P._no_value)._default is False
    assert luigi.OptionalDateParameter().serialize(D(2013, 1, 2)) == "2013-01-02"


def test_optional_numerical_and_choice_are_required_by_default():
    n = luigi.OptionalNumericalParameter(var_type=int, min_value=1, max_value=3)
    assert n._default is P._no_value and n.expected_type is int and n.parse("") is None and n.parse("2") == 2
    c = luigi.OptionalChoiceParameter(choices=[1], var_type=int)
    assert c._default is P._no_value and c.expected_type is int and c.parse("") is None
    assert c.normalize(None) is None and c.parse("1") == 1
