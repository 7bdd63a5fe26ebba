"""luigi.date_interval: ISO 8601 day/week/month/year/custom intervals."""

from __future__ import annotations

import datetime

import pytest

from luigi import date_interval as di

D = datetime.date


def test_date():
    d = di.Date(2012, 2, 29)
    assert (d.date_a, d.date_b) == (D(2012, 2, 29), D(2012, 3, 1))
    assert str(d) == repr(d) == "2012-02-29"
    assert d.next() == di.Date(2012, 3, 1) and d.prev() == di.Date(2012, 2, 28)
    assert di.Date.parse("2012-02-29") == d
    assert di.Date.from_date(datetime.datetime(2012, 2, 29, 5)) == d
    assert d.dates() == [D(2012, 2, 29)]
    with pytest.raises(ValueError):
        di.Date.parse("2012-02-30")


def test_week_is_iso_week():
    w = di.Week(2009, 1)
    assert w.date_a == D(2008, 12, 29) and w.date_b == D(2009, 1, 5)
    assert str(di.Week(2013, 1)) == "2013-W01"
    assert di.Week(2013, 52).next() == di.Week(2014, 1)
    assert str(di.Week(2013, 52).next()) == "2014-W01" and str(di.Week(2013, 52).prev()) == "2013-W51"
    assert str(di.Week.from_date(D(2010, 1, 3))) == "2009-W53"
    assert di.Week(2009, 53).date_a == D(2009, 12, 28)
    for bad in ((2010, 53), (2010, 0), (2010, 60)):
        with pytest.raises(ValueError, match="Invalid week"):
            di.Week(*bad)
    assert di.Week.parse("2013-W1") is None
    assert di.Week.parse("2013-W05") == di.Week(2013, 5)


def test_month_and_year():
    m = di.Month(2012, 12)
    assert (m.date_a, m.date_b) == (D(2012, 12, 1), D(2013, 1, 1))
    assert str(m) == "2012-12" and str(m.next()) == "2013-01" and str(m.prev()) == "2012-11"
    assert di.Month.parse("2012-1") is None
    with pytest.raises(ValueError):
        di.Month.parse("2012-13")
    y = di.Year(2012)
    assert (y.date_a, y.date_b) == (D(2012, 1, 1), D(2013, 1, 1))
    assert str(y) == "2012" and di.Year.parse("2012") == y and di.Year.parse("12") is None
    assert len(y.dates()) == 366


def test_custom_range():
    c = di.Custom.parse("2015-11-04-2015-12-04")
    assert (c.date_a, c.date_b) == (D(2015, 11, 4), D(2015, 12, 4))
    assert str(c) == "2015-11-04-2015-12-04"
    assert len(c.dates()) == 30
    reversed_range = di.Custom(D(2015, 1, 2), D(2015, 1, 1))
    assert reversed_range.dates() == [] and bool(reversed_range)
    with pytest.raises(NotImplementedError):
        c.next()
    with pytest.raises(NotImplementedError):
        c.prev()


def test_parse_rejects_other_shapes_with_none():
    for cls in (di.Date, di.Week, di.Month, di.Year, di.Custom):
        assert cls.parse("garbage") is None
        assert cls.parse("") is None
    assert di.Year.parse("2015\n") is None  # whole-string match, not `$`


def test_hours_iteration_and_containment():
    d = di.Date(2012, 1, 1)
    hours = list(d.hours())
    assert len(hours) == 24
    assert hours[0] == datetime.datetime(2012, 1, 1, 0) and hours[-1] == datetime.datetime(2012, 1, 1, 23)
    assert list(di.Week(2013, 1)) == di.Week(2013, 1).dates()
    m = di.Month(2012, 2)
    assert D(2012, 2, 29) in m and D(2012, 3, 1) not in m and D(2012, 1, 31) not in m
    assert datetime.datetime(2012, 2, 3) not in m and "2012-02-03" not in m


def test_ordering_equality_and_hash():
    assert di.Date(2012, 1, 1) < di.Date(2012, 1, 2) <= di.Date(2012, 1, 2)
    assert di.Week(2013, 2) > di.Week(2013, 1) >= di.Week(2013, 1)
    assert di.Date(2012, 1, 1) == di.Date(2012, 1, 1) and di.Date(2012, 1, 1) != di.Date(2012, 1, 2)
    assert (di.Date(2012, 1, 1) == 5) is False and di.Date(2012, 1, 1) != 5
    assert di.Date(2012, 1, 1).__cmp__(di.Date(2012, 1, 2)) == -1
    assert di.Week(2013, 52).__cmp__(di.Week(2013, 51)) == 1
    with pytest.raises(TypeError, match="Date interval type mismatch"):
        di.Date(2012, 1, 1) == di.Month(2012, 1)  # noqa: B015
    with pytest.raises(TypeError, match="Date interval type mismatch"):
        di.Date(2012, 1, 1) < 5  # noqa: B015
    assert hash(di.Week(2013, 52)) == hash("2013-W52")
    assert len({di.Month(2012, 1), di.Month(2012, 1), di.Month(2012, 2)}) == 2


def test_base_class_is_abstract():
    base = di.DateInterval(D(2012, 1, 1), D(2012, 1, 3))
    assert base.dates() == [D(2012, 1, 1), D(2012, 1, 2)]
    with pytest.raises(NotImplementedError):
        str(base)
    with pytest.raises(NotImplementedError):
        di.DateInterval.parse("2012")


def test_years_below_1000_are_zero_padded_and_parse_back():
    for interval in (
        di.Year(999),
        di.Month(999, 5),
        di.Week(999, 5),
        di.Date(999, 5, 6),
        di.Custom(D(5, 1, 1), D(999, 1, 1)),
    ):
        text = str(interval)
        assert text.startswith("0")
        assert type(interval).parse(text) == interval
