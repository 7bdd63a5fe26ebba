"""Date intervals in ISO 8601 notation: a day, an ISO week, a month, a year or a custom range.

Every interval is half-open, ``[date_a, date_b)``, over ``datetime.date``. ``parse`` classmethods
return ``None`` (never raise) for text of another shape, so ``DateIntervalParameter`` can try the
interval kinds in turn; text of the right shape but with an impossible date raises ``ValueError``.
Patterns are matched against the whole string (a trailing newline is not accepted).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Any

__all__ = ["DateInterval", "Date", "Week", "Month", "Year", "Custom"]

_ONE_DAY = datetime.timedelta(days=1)


def _iso_day(d: datetime.date) -> str:
    # Explicit padding: strftime("%Y") writes year 999 as "999", which would not parse back.
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


class DateInterval:
    """Base of all intervals: iteration, containment, ordering and navigation by ``from_date``."""

    def __init__(self, date_a: datetime.date, date_b: datetime.date) -> None:
        self.date_a = date_a
        self.date_b = date_b

    # --- subclass hooks -------------------------------------------------------------------
    def to_string(self) -> str:
        raise NotImplementedError

    @classmethod
    def from_date(cls, d: datetime.date) -> DateInterval:
        raise NotImplementedError

    @classmethod
    def parse(cls, s: str) -> DateInterval | None:
        raise NotImplementedError

    # --- content ----------------------------------------------------------------------------
    def dates(self) -> list[datetime.date]:
        """Every day of the interval, in order (empty when ``date_b <= date_a``)."""
        count = (self.date_b - self.date_a).days
        return [self.date_a + datetime.timedelta(days=i) for i in range(max(count, 0))]

    def hours(self) -> Iterator[datetime.datetime]:
        """Every full hour of every day of the interval."""
        for date in self.dates():
            for hour in range(24):
                yield datetime.datetime.combine(date, datetime.time(hour))

    def __iter__(self) -> Iterator[datetime.date]:
        return iter(self.dates())

    def __contains__(self, x: Any) -> bool:
        # Only plain dates are members (a datetime never equals a date); O(1) instead of a scan.
        if not isinstance(x, datetime.date) or isinstance(x, datetime.datetime):
            return False
        return self.date_a <= x < self.date_b

    def __bool__(self) -> bool:
        return True

    # --- navigation -------------------------------------------------------------------------
    def prev(self) -> DateInterval:
        return self.from_date(self.date_a - _ONE_DAY)

    def next(self) -> DateInterval:
        return self.from_date(self.date_b)

    # --- text -----------------------------------------------------------------------------------
    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        return self.to_string()

    def __hash__(self) -> int:
        return hash(repr(self))

    # --- comparison -------------------------------------------------------------------------
    def _key_against(self, other: Any) -> tuple[tuple, tuple]:
        if not isinstance(self, type(other)):
            raise TypeError("Date interval type mismatch")
        return (self.date_a, self.date_b), (other.date_a, other.date_b)

    def __cmp__(self, other: Any) -> int:
        mine, theirs = self._key_against(other)
        return (mine > theirs) - (mine < theirs)

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, DateInterval):
            return False
        mine, theirs = self._key_against(other)
        return mine == theirs

    def __ne__(self, other: Any) -> bool:
        return not self.__eq__(other)

    def __lt__(self, other: Any) -> bool:
        mine, theirs = self._key_against(other)
        return mine < theirs

    def __le__(self, other: Any) -> bool:
        mine, theirs = self._key_against(other)
        return mine <= theirs

    def __gt__(self, other: Any) -> bool:
        mine, theirs = self._key_against(other)
        return mine > theirs

    def __ge__(self, other: Any) -> bool:
        mine, theirs = self._key_against(other)
        return mine >= theirs


class Date(DateInterval):
    """A single day, written ``2013-07-10``."""

    _pattern = re.compile(r"(\d\d\d\d)-(\d\d)-(\d\d)")

    def __init__(self, y: int, m: int, d: int) -> None:
        date_a = datetime.date(y, m, d)
        super().__init__(date_a, date_a + _ONE_DAY)

    def to_string(self) -> str:
        return _iso_day(self.date_a)

    @classmethod
    def from_date(cls, d: datetime.date) -> Date:
        return Date(d.year, d.month, d.day)

    @classmethod
    def parse(cls, s: str) -> Date | None:
        match = cls._pattern.fullmatch(s)
        return Date(*map(int, match.groups())) if match else None


class Week(DateInterval):
    """An ISO 8601 week (Monday to Sunday), written ``2013-W01``."""

    _pattern = re.compile(r"(\d\d\d\d)-W(\d\d)")

    def __init__(self, y: int, w: int) -> None:
        try:
            date_a = datetime.date.fromisocalendar(y, w, 1)
        except (ValueError, TypeError):
            raise ValueError("Invalid week") from None
        super().__init__(date_a, date_a + datetime.timedelta(days=7))

    def to_string(self) -> str:
        year, week = self.date_a.isocalendar()[:2]
        return f"{year:04d}-W{week:02d}"

    @classmethod
    def from_date(cls, d: datetime.date) -> Week:
        return Week(*d.isocalendar()[:2])

    @classmethod
    def parse(cls, s: str) -> Week | None:
        match = cls._pattern.fullmatch(s)
        return Week(*map(int, match.groups())) if match else None


class Month(DateInterval):
    """A calendar month, written ``2013-07``."""

    _pattern = re.compile(r"(\d\d\d\d)-(\d\d)")

    def __init__(self, y: int, m: int) -> None:
        date_a = datetime.date(y, m, 1)
        date_b = datetime.date(y + m // 12, 1 + m % 12, 1)
        super().__init__(date_a, date_b)

    def to_string(self) -> str:
        return f"{self.date_a.year:04d}-{self.date_a.month:02d}"

    @classmethod
    def from_date(cls, d: datetime.date) -> Month:
        return Month(d.year, d.month)

    @classmethod
    def parse(cls, s: str) -> Month | None:
        match = cls._pattern.fullmatch(s)
        return Month(*map(int, match.groups())) if match else None


class Year(DateInterval):
    """A calendar year, written ``2013``."""

    _pattern = re.compile(r"\d\d\d\d")

    def __init__(self, y: int) -> None:
        super().__init__(datetime.date(y, 1, 1), datetime.date(y + 1, 1, 1))

    def to_string(self) -> str:
        return f"{self.date_a.year:04d}"

    @classmethod
    def from_date(cls, d: datetime.date) -> Year:
        return Year(d.year)

    @classmethod
    def parse(cls, s: str) -> Year | None:
        return Year(int(s)) if cls._pattern.fullmatch(s) else None


class Custom(DateInterval):
    """An arbitrary range, written ``2015-11-04-2015-12-04`` (the end date is exclusive)."""

    _pattern = re.compile(r"(\d\d\d\d)-(\d\d)-(\d\d)-(\d\d\d\d)-(\d\d)-(\d\d)")

    def to_string(self) -> str:
        return f"{_iso_day(self.date_a)}-{_iso_day(self.date_b)}"

    @classmethod
    def parse(cls, s: str) -> Custom | None:
        match = cls._pattern.fullmatch(s)
        if not match:
            return None
        y1, m1, d1, y2, m2, d2 = map(int, match.groups())
        return Custom(datetime.date(y1, m1, d1), datetime.date(y2, m2, d2))
