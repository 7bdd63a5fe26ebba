"""Range tasks: keep a recurring (dated) task complete over a sliding window, filling gaps.

``RangeDaily``/``RangeHourly``/``RangeByMinutes``/``RangeMonthly`` require the missing instances of
``of`` inside a window clamped by ``*_back``/``*_forward`` around "now", oldest first (or newest
first with ``reverse``), at most ``task_limit`` at a time. Bulk variants ask ``of.bulk_complete``
once, or infer completeness from filesystem listings, instead of calling ``complete()`` per date.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import logging
import operator
import re
import time
import warnings
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterable

import luigi
from luigi.parameter import ParameterException
from luigi.target import FileSystemTarget
from luigi.task import flatten_output

logger = logging.getLogger("luigi-interface")


class RangeEvent(luigi.Event):
    """Events fired by range tasks with ``(of_family, value)`` after computing the gaps."""

    COMPLETE_COUNT = "event.tools.range.complete.count"
    COMPLETE_FRACTION = "event.tools.range.complete.fraction"
    DELAY = "event.tools.range.delay"


class _OptionalNameParameter(luigi.Parameter):
    """A name or ``None``; serialized like a plain Parameter (``"None"``) so task ids match Luigi's,
    without the "not of type string" warning for the default."""

    def _warn_on_wrong_param_type(self, param_name: str, param_value: Any) -> None:
        if param_value is not None:
            super()._warn_on_wrong_param_type(param_name, param_value)


class RangeBase(luigi.WrapperTask):
    """Requires the missing instances of ``of`` over a time window; subclasses define the grid."""

    of = luigi.TaskParameter(description="task name to be completed. The task must take a single datetime parameter")
    of_params = luigi.DictParameter(default=dict(), description="Arguments to be provided to the 'of' class when instantiating")
    start = luigi.Parameter()
    stop = luigi.Parameter()
    reverse = luigi.BoolParameter(default=False, description="specifies the preferred order for catching up. False - work from the oldest missing outputs onward; True - from the newest backward")
    task_limit = luigi.IntParameter(default=50, description="how many of 'of' tasks to require. Guards against scheduling insane amounts of tasks in one go")
    now = luigi.IntParameter(default=None, description="set to override current time. In seconds since epoch")
    param_name = _OptionalNameParameter(default=None, description="parameter name used to pass in parameterized value. Defaults to None, meaning use first positional parameter", positional=False)

    @property
    def of_cls(self) -> Any:
        """The ``of`` task class (resolving a family name, which is deprecated)."""
        if isinstance(self.of, str):
            warnings.warn('When using Range programatically, dont pass "of" param as string!', stacklevel=2)
            return luigi.task_register.Register.get_task_cls(self.of)
        return self.of

    # Hooks implemented by the granularity subclasses.
    def datetime_to_parameter(self, dt: datetime) -> Any:
        raise NotImplementedError

    def parameter_to_datetime(self, p: Any) -> datetime:
        raise NotImplementedError

    def datetime_to_parameters(self, dt: datetime) -> dict:
        raise NotImplementedError

    def parameters_to_datetime(self, p: dict) -> datetime:
        raise NotImplementedError

    def moving_start(self, now: datetime) -> datetime:
        raise NotImplementedError

    def moving_stop(self, now: datetime) -> datetime:
        raise NotImplementedError

    def finite_datetimes(self, finite_start: datetime, finite_stop: datetime) -> list[datetime]:
        raise NotImplementedError

    def _format_datetime(self, dt: datetime) -> str:
        return str(self.datetime_to_parameter(dt))

    def _format_range(self, datetimes: list[datetime]) -> str:
        return f"[{self._format_datetime(datetimes[0])}, {self._format_datetime(datetimes[-1])}]"

    def _grid_count_and_position(self, lo: datetime, hi: datetime, point: datetime | None) -> tuple[int, int]:
        """Number of grid points in ``[lo, hi)`` and ``point``'s index among them (0 if ``None``).

        Enumerates the grid; the built-in fixed-step grids override this with arithmetic so a
        start years back does not build hundreds of thousands of datetimes per scheduling.
        """
        datetimes = self.finite_datetimes(lo, hi)
        position = bisect.bisect_left(datetimes, point) if point is not None else 0
        return len(datetimes), position

    def _emit_metrics(self, missing_datetimes: list[datetime], finite_start: datetime, finite_stop: datetime) -> None:
        """Fire DELAY, COMPLETE_COUNT and COMPLETE_FRACTION for the user's whole start/stop window."""
        lo = finite_start if self.start is None else min(finite_start, self.parameter_to_datetime(self.start))
        hi = finite_stop if self.stop is None else max(finite_stop, self.parameter_to_datetime(self.stop))
        first_missing = missing_datetimes[0] if missing_datetimes else None
        count, position = self._grid_count_and_position(lo, hi, first_missing)
        delay = count - position if count and first_missing is not None else 0
        complete_count = count - len(missing_datetimes)
        family = self.of_cls.task_family
        self.trigger_event(RangeEvent.DELAY, family, delay)
        self.trigger_event(RangeEvent.COMPLETE_COUNT, family, complete_count)
        self.trigger_event(RangeEvent.COMPLETE_FRACTION, family, float(complete_count) / count if count else 1)

    @property
    def _param_name(self) -> str:
        if self.param_name is not None:
            return self.param_name
        return next(name for name, param in self.of.get_params() if param.positional)

    def _task_parameters(self, param: Any) -> dict:
        kwargs = dict(**self.of_params)
        kwargs[self._param_name] = param
        return kwargs

    def _instantiate_task_cls(self, param: Any) -> Any:
        return self.of(**self._task_parameters(param))

    def _now(self) -> datetime:
        seconds = self.now if self.now is not None else time.time()
        return datetime.fromtimestamp(seconds, tz=timezone.utc).replace(tzinfo=None)

    def _validate(self) -> None:
        if not self.start and not self.stop:
            raise ParameterException("At least one of start and stop needs to be specified")
        if not self.start and not self.reverse:
            raise ParameterException("Either start needs to be specified or reverse needs to be True")
        if self.start and self.stop and self.start > self.stop:
            raise ParameterException("Can't have start > stop")

    def requires(self) -> list:
        if hasattr(self, "_cached_requires"):
            return self._cached_requires
        self._validate()
        now = self._now()
        moving_start, moving_stop = self.moving_start(now), self.moving_stop(now)
        finite_start = moving_start if self.start is None else max(self.parameter_to_datetime(self.start), moving_start)
        finite_stop = moving_stop if self.stop is None else min(self.parameter_to_datetime(self.stop), moving_stop)
        datetimes = self.finite_datetimes(finite_start, finite_stop) if finite_start <= finite_stop else []
        family = self.of_cls.task_family
        if datetimes:
            logger.debug("Actually checking if range %s of %s is complete", self._format_range(datetimes), family)
            missing = sorted(self._missing_datetimes(datetimes))
            logger.debug("Range %s lacked %d of expected %d %s instances", self._format_range(datetimes), len(missing), len(datetimes), family)
        else:
            missing = []
            logger.debug("Empty range. No %s instances expected", family)

        self._emit_metrics(missing, finite_start, finite_stop)

        required = missing[-self.task_limit :] if self.reverse else missing[: self.task_limit]
        if required:
            logger.debug("Requiring %d missing %s instances in range %s", len(required), family, self._format_range(required))
        if self.reverse:
            required.reverse()
        self._cached_requires = [self._instantiate_task_cls(self.datetime_to_parameter(d)) for d in required]
        return self._cached_requires

    def missing_datetimes(self, finite_datetimes: list[datetime]) -> list[datetime]:
        """Datetimes whose ``of`` instance is not complete (one ``complete()`` call each)."""
        return [d for d in finite_datetimes if not self._instantiate_task_cls(self.datetime_to_parameter(d)).complete()]

    def _missing_datetimes(self, finite_datetimes: list[datetime]) -> Iterable[datetime]:
        """Calls ``missing_datetimes``, accepting subclasses that still use the old 2-argument form."""
        try:
            return self.missing_datetimes(finite_datetimes)
        except TypeError as ex:
            if "missing_datetimes()" in repr(ex):
                warnings.warn("In your Range* subclass, missing_datetimes() should only take 1 argument (see latest docs)", stacklevel=2)
                return self.missing_datetimes(self.of_cls, finite_datetimes)
            raise


class _FixedStepGrid:
    """Grids of evenly spaced points (days, hours, minute intervals) anchored at ``_grid_origin``."""

    def _grid_origin(self, finite_start: datetime) -> datetime:
        raise NotImplementedError

    def _grid_step(self) -> timedelta:
        raise NotImplementedError

    def finite_datetimes(self, finite_start: datetime, finite_stop: datetime) -> list[datetime]:
        step = self._grid_step()
        points = []
        t = self._grid_origin(finite_start)
        while t < finite_stop:
            if t >= finite_start:
                points.append(t)
            t += step
        return points

    def _grid_count_and_position(self, lo: datetime, hi: datetime, point: datetime | None) -> tuple[int, int]:
        if type(self).finite_datetimes is not _FixedStepGrid.finite_datetimes:  # user-defined grid
            return super()._grid_count_and_position(lo, hi, point)
        step = self._grid_step()
        origin = self._grid_origin(lo)
        first = origin + -((origin - lo) // step) * step  # first grid point >= lo
        count = -((first - hi) // step) if hi > first else 0
        position = (point - first) // step if point is not None else 0
        return count, position


class _DatetimeParameterGrid(_FixedStepGrid):
    """Grids whose task parameter is itself a datetime (hourly, by-minutes): the mapping is identity."""

    def datetime_to_parameter(self, dt: datetime) -> datetime:
        return dt

    def parameter_to_datetime(self, p: datetime) -> datetime:
        return p

    def datetime_to_parameters(self, dt: datetime) -> dict:
        return self._task_parameters(dt)


class RangeDailyBase(_FixedStepGrid, RangeBase):
    """Daily range over a task with a ``DateParameter``; checks instances one by one."""

    start = luigi.DateParameter(default=None, description="beginning date, inclusive. Default: None - work backward forever (requires reverse=True)")
    stop = luigi.DateParameter(default=None, description="ending date, exclusive. Default: None - work forward forever")
    days_back = luigi.IntParameter(default=100, description="extent to which contiguousness is to be assured into past, in days from current time. Prevents infinite loop when start is none. If the dataset has limited retention (i.e. old outputs get removed), this should be set shorter to that, too, to prevent the oldest outputs flapping. Increase freely if you intend to process old dates - worker's memory is the limit")
    days_forward = luigi.IntParameter(default=0, description="extent to which contiguousness is to be assured into future, in days from current time. Prevents infinite loop when stop is none")

    def datetime_to_parameter(self, dt: datetime) -> date:
        return dt.date()

    def parameter_to_datetime(self, p: date) -> datetime:
        return datetime(p.year, p.month, p.day)

    def datetime_to_parameters(self, dt: datetime) -> dict:
        return self._task_parameters(dt.date())

    def parameters_to_datetime(self, p: dict) -> datetime:
        dt = p[self._param_name]
        return datetime(dt.year, dt.month, dt.day)

    def moving_start(self, now: datetime) -> datetime:
        return now - timedelta(days=self.days_back)

    def moving_stop(self, now: datetime) -> datetime:
        return now + timedelta(days=self.days_forward)

    def _grid_origin(self, finite_start: datetime) -> datetime:
        return datetime(finite_start.year, finite_start.month, finite_start.day)

    def _grid_step(self) -> timedelta:
        return timedelta(days=1)


class RangeHourlyBase(_DatetimeParameterGrid, RangeBase):
    """Hourly range over a task with a ``DateHourParameter``; checks instances one by one."""

    start = luigi.DateHourParameter(default=None, description="beginning datehour, inclusive. Default: None - work backward forever (requires reverse=True)")
    stop = luigi.DateHourParameter(default=None, description="ending datehour, exclusive. Default: None - work forward forever")
    hours_back = luigi.IntParameter(default=100 * 24, description="extent to which contiguousness is to be assured into past, in hours from current time. Prevents infinite loop when start is none. If the dataset has limited retention (i.e. old outputs get removed), this should be set shorter to that, too, to prevent the oldest outputs flapping. Increase freely if you intend to process old dates - worker's memory is the limit")
    hours_forward = luigi.IntParameter(default=0, description="extent to which contiguousness is to be assured into future, in hours from current time. Prevents infinite loop when stop is none")

    def parameters_to_datetime(self, p: dict) -> datetime:
        return p[self._param_name]

    def moving_start(self, now: datetime) -> datetime:
        return now - timedelta(hours=self.hours_back)

    def moving_stop(self, now: datetime) -> datetime:
        return now + timedelta(hours=self.hours_forward)

    def _grid_origin(self, finite_start: datetime) -> datetime:
        return datetime(finite_start.year, finite_start.month, finite_start.day, finite_start.hour)

    def _grid_step(self) -> timedelta:
        return timedelta(hours=1)

    def _format_datetime(self, dt: datetime) -> str:
        return luigi.DateHourParameter().serialize(dt)


class RangeByMinutesBase(_DatetimeParameterGrid, RangeBase):
    """Range over a task with a ``DateMinuteParameter``, one instance every ``minutes_interval``."""

    start = luigi.DateMinuteParameter(default=None, description="beginning date-hour-minute, inclusive. Default: None - work backward forever (requires reverse=True)")
    stop = luigi.DateMinuteParameter(default=None, description="ending date-hour-minute, exclusive. Default: None - work forward forever")
    minutes_back = luigi.IntParameter(default=60 * 24, description="extent to which contiguousness is to be assured into past, in minutes from current time. Prevents infinite loop when start is none. If the dataset has limited retention (i.e. old outputs get removed), this should be set shorter to that, too, to prevent the oldest outputs flapping. Increase freely if you intend to process old dates - worker's memory is the limit")
    minutes_forward = luigi.IntParameter(default=0, description="extent to which contiguousness is to be assured into future, in minutes from current time. Prevents infinite loop when stop is none")
    minutes_interval = luigi.IntParameter(default=1, description="separation between events in minutes. It must evenly divide 60")

    def parameters_to_datetime(self, p: dict) -> datetime:
        dt = p[self._param_name]
        return datetime(dt.year, dt.month, dt.day, dt.hour, dt.minute)

    def moving_start(self, now: datetime) -> datetime:
        return now - timedelta(minutes=self.minutes_back)

    def moving_stop(self, now: datetime) -> datetime:
        return now + timedelta(minutes=self.minutes_forward)

    def _grid_origin(self, finite_start: datetime) -> datetime:
        minute = finite_start.minute - finite_start.minute % self.minutes_interval
        return datetime(finite_start.year, finite_start.month, finite_start.day, finite_start.hour, minute)

    def _grid_step(self) -> timedelta:
        """The interval, validated (so metrics raise the same errors as ``finite_datetimes``)."""
        if not 0 < self.minutes_interval < 60:
            raise ParameterException("minutes-interval must be within 0..60")
        if 60 % self.minutes_interval != 0:
            raise ParameterException("minutes-interval does not evenly divide 60")
        return timedelta(minutes=self.minutes_interval)

    def _format_datetime(self, dt: datetime) -> str:
        return luigi.DateMinuteParameter().serialize(dt)


def _add_months(dt: datetime, months: int) -> datetime:
    """First-of-month ``dt`` shifted by ``months`` (stdlib replacement for relativedelta)."""
    index = dt.year * 12 + dt.month - 1 + months
    return dt.replace(year=index // 12, month=index % 12 + 1)


class RangeMonthly(RangeBase):
    """Monthly range over a task with a ``MonthParameter`` (the current month is excluded)."""

    start = luigi.MonthParameter(default=None, description="beginning month, inclusive. Default: None - work backward forever (requires reverse=True)")
    stop = luigi.MonthParameter(default=None, description="ending month, exclusive. Default: None - work forward forever")
    months_back = luigi.IntParameter(default=13, description="extent to which contiguousness is to be assured into past, in months from current time. Prevents infinite loop when start is none. If the dataset has limited retention (i.e. old outputs get removed), this should be set shorter to that, too, to prevent the oldest outputs flapping. Increase freely if you intend to process old dates - worker's memory is the limit")
    months_forward = luigi.IntParameter(default=0, description="extent to which contiguousness is to be assured into future, in months from current time. Prevents infinite loop when stop is none")

    def datetime_to_parameter(self, dt: datetime) -> date:
        return date(dt.year, dt.month, 1)

    def parameter_to_datetime(self, p: date) -> datetime:
        return datetime(p.year, p.month, 1)

    def datetime_to_parameters(self, dt: datetime) -> dict:
        return self._task_parameters(dt.date())

    def parameters_to_datetime(self, p: dict) -> datetime:
        dt = p[self._param_name]
        return datetime(dt.year, dt.month, 1)

    def _format_datetime(self, dt: datetime) -> str:
        return dt.strftime("%Y-%m")

    def moving_start(self, now: datetime) -> datetime:
        return _add_months(self._align(now), -self.months_back)

    def moving_stop(self, now: datetime) -> datetime:
        return _add_months(self._align(now), self.months_forward)

    def _align(self, dt: datetime) -> datetime:
        return datetime(dt.year, dt.month, 1)

    def finite_datetimes(self, finite_start: datetime, finite_stop: datetime) -> list[datetime]:
        start, stop = self._align(finite_start), self._align(finite_stop)
        months = []
        for k in itertools.count():
            t = _add_months(start, k)
            if t >= stop:
                return months
            if t >= finite_start:
                months.append(t)


# ---------------------------------------------------------------------------------------------
# Bulk completeness


def _constrain_glob(glob: str, paths: list[str], limit: int = 5) -> list[str]:
    """Narrow the leftmost ``[0-9]`` tokens of ``glob`` to digits that occur in ``paths``."""

    def digit_set_wildcard(chars: list[str]) -> str:
        chars = sorted(chars)
        if len(chars) > 1 and ord(chars[-1]) - ord(chars[0]) == len(chars) - 1:
            return f"[{chars[0]}-{chars[-1]}]"
        return "[{}]".format("".join(chars))

    current = {glob: paths}
    while True:
        pos = list(current.keys())[0].find("[0-9]")
        if pos == -1:
            return list(current.keys())
        char_sets = {g: sorted({path[pos] for path in p}) for g, p in current.items()}
        if sum(len(s) for s in char_sets.values()) > limit:
            return [g.replace("[0-9]", digit_set_wildcard(char_sets[g]), 1) for g in current]
        narrowed = {}
        for g, p in current.items():
            for c in char_sets[g]:
                narrowed[g.replace("[0-9]", c, 1)] = [path for path in p if path[pos] == c]
        current = narrowed


def most_common(items: Iterable) -> tuple[Any, int]:
    """``(element, count)`` of the most frequent element; first seen wins ties."""
    [(element, counter)] = Counter(items).most_common(1)
    return element, counter


def _get_per_location_glob(tasks: list, outputs: list, regexes: list) -> str:
    """The directory glob covering one output position, with date digits replaced by ``[0-9]``."""
    paths = [o.path for o in outputs]
    matches = [r.search(p) for r, p in zip(regexes, paths, strict=False)]
    for m, p, t in zip(matches, paths, tasks, strict=False):
        if m is None:
            raise NotImplementedError(f"Couldn't deduce datehour representation in output path {p!r} of task {t}")
    n_groups = len(matches[0].groups())
    positions = [most_common((m.start(i), m.end(i)) for m in matches)[0] for i in range(1, n_groups + 1)]
    glob = list(paths[0])
    for start, end in positions:
        glob = glob[:start] + ["[0-9]"] * (end - start) + glob[end:]
    return "".join(glob).rsplit("/", 1)[0]


def _get_filesystems_and_globs(datetime_to_task: Callable, datetime_to_re: Callable) -> Iterable[tuple[Any, str]]:
    """Yield ``(filesystem, glob)`` per output position, inferred from 135 sample datetimes."""
    sample_datetimes = [
        datetime(y, m, d, h) for y in range(2000, 2050, 10) for m in range(1, 4) for d in range(5, 8) for h in range(21, 24)
    ]
    regexes = [re.compile(datetime_to_re(d)) for d in sample_datetimes]
    sample_tasks = [datetime_to_task(d) for d in sample_datetimes]
    sample_outputs = [flatten_output(t) for t in sample_tasks]

    for o, t in zip(sample_outputs, sample_tasks, strict=False):
        if len(o) != len(sample_outputs[0]):
            raise NotImplementedError(
                f"Outputs must be consistent over time, sorry; was {o!r} for {t!r} and {sample_outputs[0]!r} for {sample_tasks[0]!r}"
            )
        for target in o:
            if not isinstance(target, FileSystemTarget):
                raise NotImplementedError(f"Output targets must be instances of FileSystemTarget; was {target!r} for {t!r}")

    for o in zip(*sample_outputs, strict=False):  # transposed: one tuple per output position
        glob = _get_per_location_glob(sample_tasks, o, regexes)
        yield o[0].fs, glob


def _list_existing(filesystem: Any, glob: str, paths: list[str]) -> set[str]:
    """List the narrowed globs that exist; returns the set of listed paths."""
    globs = _constrain_glob(glob, paths)
    time_start = time.time()
    listing = []
    for g in sorted(globs):
        logger.debug("Listing %s", g)
        if filesystem.exists(g):
            listing.extend(filesystem.listdir(g))
    logger.debug("%d %s listings took %f s to return %d items", len(globs), filesystem.__class__.__name__, time.time() - time_start, len(listing))
    return set(listing)


def infer_bulk_complete_from_fs(datetimes: list[datetime], datetime_to_task: Callable, datetime_to_re: Callable) -> list[datetime]:
    """Missing datetimes judged by listing the output directories instead of per-task checks."""
    filesystems_and_globs_by_location = _get_filesystems_and_globs(datetime_to_task, datetime_to_re)
    paths_by_datetime = [[o.path for o in flatten_output(datetime_to_task(d))] for d in datetimes]
    listing: set[str] = set()
    for (fs, glob), p in zip(filesystems_and_globs_by_location, zip(*paths_by_datetime, strict=False), strict=False):
        listing |= _list_existing(fs, glob, p)
    return [d for d, p in zip(datetimes, paths_by_datetime, strict=False) if not set(p) <= listing]


class _BulkMissingMixin:
    """``missing_datetimes`` via ``of.bulk_complete``, falling back to filesystem inference."""

    _datetime_re_format = ""

    def _bulk_values(self, finite_datetimes: list[datetime]) -> Iterable:
        return map(self.datetime_to_parameter, finite_datetimes)

    def missing_datetimes(self, finite_datetimes: list[datetime]) -> Any:
        try:
            cls_with_params = functools.partial(self.of, **self.of_params)
            complete_parameters = self.of.bulk_complete.__func__(cls_with_params, self._bulk_values(finite_datetimes))
            return set(finite_datetimes) - set(map(self.parameter_to_datetime, complete_parameters))
        except NotImplementedError:
            return infer_bulk_complete_from_fs(
                finite_datetimes,
                lambda d: self._instantiate_task_cls(self.datetime_to_parameter(d)),
                operator.methodcaller("strftime", self._datetime_re_format),
            )


class RangeDaily(_BulkMissingMixin, RangeDailyBase):
    """Daily range that checks completeness in bulk."""

    _datetime_re_format = "(%Y).*(%m).*(%d)"


class RangeHourly(_BulkMissingMixin, RangeHourlyBase):
    """Hourly range that checks completeness in bulk."""

    _datetime_re_format = "(%Y).*(%m).*(%d).*(%H)"

    def _bulk_values(self, finite_datetimes: list[datetime]) -> Iterable:
        return list(map(self.datetime_to_parameter, finite_datetimes))


class RangeByMinutes(_BulkMissingMixin, RangeByMinutesBase):
    """By-minutes range that checks completeness in bulk."""

    _datetime_re_format = "(%Y).*(%m).*(%d).*(%H).*(%M)"
