"""Property tests: parse(serialize(x)) gives x back for every value a parameter can hold."""

from __future__ import annotations

import datetime
import enum
import warnings
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import luigi
from luigi import date_interval as di


class Shade(enum.Enum):
    LIGHT = 1
    DARK = 2
    MID_TONE = 3


# No per-example deadline: the suite runs on two busy cores.
relaxed = settings(deadline=None)


def round_trip(param, value):
    normalized = param.normalize(value)
    assert param.normalize(param.parse(param.serialize(normalized))) == normalized
    return normalized


years = st.integers(min_value=1, max_value=9998)
dates = st.dates(min_value=datetime.date(1000, 1, 1), max_value=datetime.date(9998, 12, 31))  # intervals end in range
interval_dates = st.dates(max_value=datetime.date(9998, 12, 31))
datetimes = st.datetimes(min_value=datetime.datetime(1000, 1, 1))
json_scalars = st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@relaxed
@given(st.integers())
def test_int(value):
    round_trip(luigi.IntParameter(), value)


@relaxed
@given(st.floats(allow_nan=False))
def test_float(value):
    round_trip(luigi.FloatParameter(), value)


@relaxed
@given(st.booleans())
def test_bool(value):
    round_trip(luigi.BoolParameter(), value)


@relaxed
@given(st.text())
def test_str(value):
    round_trip(luigi.Parameter(), value)


@relaxed
@given(dates, st.integers(min_value=1, max_value=40))
def test_date_month_year(value, interval):
    for param in (luigi.DateParameter(interval=interval), luigi.MonthParameter(), luigi.YearParameter()):
        round_trip(param, value)


@relaxed
@given(datetimes)
def test_datetime_params(value):
    for cls in (luigi.DateHourParameter, luigi.DateMinuteParameter, luigi.DateSecondParameter):
        round_trip(cls(), value)


@relaxed
@given(st.timedeltas())
def test_time_delta_including_negative_and_microseconds(value):
    param = luigi.TimeDeltaParameter()
    assert param.parse(param.serialize(value)) == value


@relaxed
@given(st.dictionaries(st.text(), json_values, max_size=5))
def test_dict(value):
    param = luigi.DictParameter()
    normalized = round_trip(param, value)
    assert list(normalized) == list(value)  # key order survives
    hash(normalized)


@relaxed
@given(st.lists(json_values, max_size=5))
def test_list_and_tuple(value):
    hash(round_trip(luigi.ListParameter(), value))
    hash(round_trip(luigi.TupleParameter(), [v for v in value if isinstance(v, (list, str))]))


@relaxed
@given(st.lists(st.sampled_from(Shade), max_size=5))
def test_enum_list(members):
    round_trip(luigi.EnumListParameter(enum=Shade), tuple(members))


@relaxed
@given(st.sampled_from(Shade))
def test_enum(member):
    round_trip(luigi.EnumParameter(enum=Shade), member)


@relaxed
@given(st.lists(st.sampled_from(["a", "b", "c d"]), max_size=5))
def test_choice_list(values):
    round_trip(luigi.ChoiceListParameter(choices=["a", "b", "c d"]), values)


@relaxed
@given(
    st.one_of(
        interval_dates.map(di.Date.from_date),
        interval_dates.map(di.Week.from_date),
        interval_dates.map(di.Month.from_date),
        years.map(di.Year),
        st.tuples(interval_dates, interval_dates).map(lambda pair: di.Custom(*pair)),
    )
)
def test_date_interval(value):  # years below 1000 included
    param = luigi.DateIntervalParameter()
    parsed = param.parse(param.serialize(value))
    assert type(parsed) is type(value) and parsed == value


@relaxed
@given(st.lists(st.text(alphabet="abc.-_ ", min_size=1), min_size=1, max_size=4))
def test_path(parts):
    round_trip(luigi.PathParameter(), Path(*parts))


@relaxed
@given(st.none() | st.integers())
def test_optional_int(value):
    round_trip(luigi.OptionalIntParameter(), value)


@relaxed
@given(st.none() | dates)
def test_optional_date(value):
    round_trip(luigi.OptionalDateParameter(), value)


@relaxed
@given(st.none() | st.dictionaries(st.text(), json_scalars, max_size=4))
def test_optional_dict(value):
    round_trip(luigi.OptionalDictParameter(), value)


@relaxed
@given(st.text(alphabet="0123456789 .-+PTWDHMSwdhmsecondayinfra,", max_size=20))
def test_time_delta_parse_of_any_text_yields_a_delta_or_a_parameter_error(text):
    param = luigi.TimeDeltaParameter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = param.parse(text)
    except luigi.parameter.ParameterException as error:
        assert str(error) == f"Invalid time delta - could not parse {text}"
    else:
        assert isinstance(value, datetime.timedelta)


@relaxed
@given(st.text(alphabet="0123456789-W", max_size=22))
def test_date_interval_parse_of_any_text_yields_an_interval_or_a_value_error(text):
    try:
        value = luigi.DateIntervalParameter().parse(text)
    except ValueError:
        return
    assert isinstance(value, di.DateInterval) and str(value) == text
