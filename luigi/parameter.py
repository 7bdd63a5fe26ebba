"""Task parameters: typed class attributes of tasks, with string round trips for ids and the CLI.

A ``Parameter`` declared on a ``Task`` class describes one input of the task. Values passed to the
constructor are only ``normalize``d; values not passed are resolved, in this order, from the
``--Family-param`` command-line flag, the ``[Family] param`` config option, the deprecated
``config_path`` location and finally the default (``has_task_value``/``task_value``). Strings from
the command line or config go through ``parse``; ``serialize`` gives the text that enters task ids,
``repr(task)`` and the params sent to the scheduler, so its output must stay byte-exact.
"""

from __future__ import annotations

import ast
import datetime
import enum
import importlib.util
import json
import operator
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from configparser import NoOptionError, NoSectionError
from pathlib import Path
from typing import Any, Generic, TypedDict, TypeVar

from luigi import configuration, date_interval
from luigi.freezing import FrozenOrderedDict, recursively_freeze, recursively_unfreeze
from luigi.task_register import _forget_all_class_infos

__all__ = [
    "BoolParameter",
    "ChoiceListParameter",
    "ChoiceParameter",
    "ConfigPath",
    "DateHourParameter",
    "DateIntervalParameter",
    "DateMinuteParameter",
    "DateParameter",
    "DateSecondParameter",
    "DictParameter",
    "DuplicateParameterException",
    "EnumListParameter",
    "EnumParameter",
    "FloatParameter",
    "FrozenOrderedDict",
    "IntParameter",
    "ListParameter",
    "MissingParameterException",
    "MonthParameter",
    "NumericalParameter",
    "OptionalBoolParameter",
    "OptionalChoiceParameter",
    "OptionalDateParameter",
    "OptionalDictParameter",
    "OptionalFloatParameter",
    "OptionalIntParameter",
    "OptionalListParameter",
    "OptionalNumericalParameter",
    "OptionalParameter",
    "OptionalParameterMixin",
    "OptionalParameterTypeWarning",
    "OptionalPathParameter",
    "OptionalStrParameter",
    "OptionalTupleParameter",
    "Parameter",
    "ParameterException",
    "ParameterVisibility",
    "PathParameter",
    "StrParameter",
    "TaskParameter",
    "TimeDeltaParameter",
    "TupleParameter",
    "UnconsumedParameterWarning",
    "UnknownParameterException",
    "YearParameter",
    "recursively_freeze",
    "recursively_unfreeze",
]

T = TypeVar("T")
_OptT = TypeVar("_OptT")
TaskType = TypeVar("TaskType")
EnumParameterType = TypeVar("EnumParameterType", bound=enum.Enum)
DictT = TypeVar("DictT")
ListT = TypeVar("ListT")
NumericalType = TypeVar("NumericalType", int, float)
ChoiceType = TypeVar("ChoiceType")
_UNIX_EPOCH = datetime.datetime(1970, 1, 1)

# jsonschema is optional and slow to import: only look it up here, import it on first use.
_JSONSCHEMA_ENABLED: bool = importlib.util.find_spec("jsonschema") is not None


def _jsonschema() -> Any:
    """The ``jsonschema`` module, imported on first use and kept as ``luigi.parameter.jsonschema``."""
    module = globals().get("jsonschema")
    if module is None:
        import jsonschema as module

        globals()["jsonschema"] = module
    return module


def __getattr__(name: str) -> Any:
    if name == "jsonschema" and _JSONSCHEMA_ENABLED:
        try:
            return _jsonschema()
        except ImportError:
            pass
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------------------------
# Sentinel, visibility, exceptions, warnings, typing helpers
# --------------------------------------------------------------------------------------------


class _NoValueType:
    """Singleton meaning "no value / no default" (distinct from ``None``, a legal value)."""

    _instance: _NoValueType | None = None

    def __new__(cls) -> _NoValueType:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<no_value>"

    def __reduce__(self) -> tuple:
        return (_NoValueType, ())


_no_value = _NoValueType()


class ParameterVisibility(enum.IntEnum):
    """Who may see a parameter: everyone, the scheduler only (not the task id), or the task only."""

    PUBLIC = 0
    HIDDEN = 1
    PRIVATE = 2

    @classmethod
    def has_value(cls, value: Any) -> bool:
        return any(value == member.value for member in cls)

    def serialize(self) -> int:
        return self.value


class ParameterException(Exception):
    """Base class of all parameter errors."""


class MissingParameterException(ParameterException):
    """A required parameter got no value from any source."""


class UnknownParameterException(ParameterException):
    """An unknown keyword, or too many positional arguments, was given to a task."""


class DuplicateParameterException(ParameterException):
    """A value was given both positionally and by keyword."""


class OptionalParameterTypeWarning(UserWarning):
    """An ``Optional*`` parameter received a value of an unexpected type."""


class UnconsumedParameterWarning(UserWarning):
    """A task's config section holds a key that is not one of the task's parameters."""


class ConfigPath(TypedDict):
    section: str
    name: str


class _ParameterKwargs(TypedDict, total=False):
    is_global: bool
    significant: bool
    description: str | None
    config_path: ConfigPath | None
    positional: bool
    always_in_help: bool
    batch_method: Callable[[Iterable[Any]], Any] | None
    visibility: ParameterVisibility


class _MissingValueError(KeyError, AttributeError):
    """Reading a parameter attribute that was never set on the instance.

    A ``KeyError`` like Luigi's, and an ``AttributeError`` so that ``hasattr`` answers False.
    """


_CONFIG_PATH_DEPRECATION = "The use of the configuration [{}] {} is deprecated. Please use [{}] {}"

_CmdlineParser: Any = None  # luigi.cmdline_parser.CmdlineParser, imported on first use


def _active_cmdline_parser() -> Any:
    """The ``CmdlineParser`` global instance of a running command line, or None."""
    global _CmdlineParser
    if _CmdlineParser is None:
        # Imported late: the command-line parser depends on the task registry.
        from luigi.cmdline_parser import CmdlineParser

        _CmdlineParser = CmdlineParser
    return _CmdlineParser.get_instance()


def _config_lacks(conf: Any, section: str, name: str) -> bool:
    """Cheap test that ``conf.get(section, name)`` would fail, avoiding a raised exception.

    Most parameters have no config value, so this is the common case of every task creation.
    """
    if isinstance(conf, configuration.LuigiConfigParser):
        # Options of [DEFAULT] only apply to existing sections; dashed aliases need the section too.
        return section != conf.default_section and not conf.has_section(section)
    if isinstance(conf, configuration.LuigiTomlParser):
        return not conf.has_option(section, name)
    return False


_counter_lock = threading.Lock()

# Parameter attributes that task classes read into their cached tables (``luigi.task._ClassInfo``).
_TABLED_ATTRIBUTES = frozenset({"significant", "positional", "visibility", "_batch_method"})

# --------------------------------------------------------------------------------------------
# Parameter
# --------------------------------------------------------------------------------------------


class Parameter(Generic[T]):
    """A task input; plain ``Parameter`` values are strings.

    It is a non-data descriptor: class access returns the Parameter itself, and each instance
    keeps its value in its own ``__dict__`` under the attribute name it was set with. So one
    Parameter object may serve several names or classes, and may be attached after class creation.
    """

    _counter = 0

    def __init__(
        self,
        default: Any = _no_value,
        is_global: bool = False,
        significant: bool = True,
        description: str | None = None,
        config_path: ConfigPath | None = None,
        positional: bool = True,
        always_in_help: bool = False,
        batch_method: Callable[[Iterable[Any]], Any] | None = None,
        visibility: ParameterVisibility = ParameterVisibility.PUBLIC,
    ) -> None:
        self._default = default
        self._batch_method = batch_method
        if is_global:
            warnings.warn("is_global support is removed. Assuming positional=False", DeprecationWarning, stacklevel=2)
            positional = False
        self.significant = significant
        self.positional = positional
        self.visibility = visibility if ParameterVisibility.has_value(visibility) else ParameterVisibility.PUBLIC
        self.description = description
        self.always_in_help = always_in_help
        if config_path is not None and ("section" not in config_path or "name" not in config_path):
            raise ParameterException("config_path must be a hash containing entries for section and name")
        self._config_path = config_path
        self._attribute_name: str | None = None
        with _counter_lock:
            self._counter = Parameter._counter
            Parameter._counter += 1

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in _TABLED_ATTRIBUTES and "_counter" in self.__dict__:  # changed after construction
            _forget_all_class_infos()

    # --- descriptor -------------------------------------------------------------------------
    def __set_name__(self, owner: type, name: str) -> None:
        self._attribute_name = name

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        # Only reached when the instance holds no value under the accessed name.
        raise _MissingValueError(self._attribute_name)

    # --- value hooks ------------------------------------------------------------------------
    def parse(self, x: Any) -> Any:
        """Convert a string (command line, config, scheduler) to a value."""
        return x

    def serialize(self, x: Any) -> str:
        """Convert a value to the string used in task ids; inverse of ``parse``."""
        return str(x)

    def normalize(self, x: Any) -> Any:
        """Validate/canonicalize every value that ends up on a task (also code-supplied ones)."""
        return x

    def next_in_enumeration(self, value: Any) -> Any:
        """The value following ``value`` (used to summarize ranges of tasks), or None."""
        return None

    def _warn_on_wrong_param_type(self, param_name: str, param_value: Any) -> None:
        if self.__class__ is not Parameter:
            return
        if not isinstance(param_value, str):
            warnings.warn(f'Parameter "{param_name}" with value "{param_value}" is not of type string.', stacklevel=2)

    # --- batching ----------------------------------------------------------------------------
    def _is_batchable(self) -> bool:
        return self._batch_method is not None

    def _parse_list(self, xs: Iterable[Any]) -> Any:
        if not self._is_batchable():
            raise NotImplementedError("No batch method found")
        if not xs:
            raise ValueError("Empty parameter list passed to parse_list")
        return self._batch_method(map(self.parse, xs))

    # --- value lookup -----------------------------------------------------------------------
    def _parse_or_no_value(self, x: Any) -> Any:
        if not x:
            return _no_value
        return self.parse(x)

    def _get_value_from_config(self, section: str, name: str) -> Any:
        return self._config_value_in(configuration.get_config(), section, name)

    def _config_value_in(self, conf: Any, section: str, name: str) -> Any:
        """The parsed ``[section] name`` value of config ``conf``, or ``_no_value``."""
        if _config_lacks(conf, section, name):
            return _no_value
        try:
            value = conf.get(section, name)
        except (NoSectionError, NoOptionError, KeyError):
            return _no_value
        return self.parse(value)

    def _cmdline_value(self, task_name: str, param_name: str) -> Any:
        """The parsed ``--Family-param`` value of the running command line, or ``_no_value``."""
        return self._cmdline_value_in(_active_cmdline_parser(), task_name, param_name)

    def _cmdline_value_in(self, cmdline: Any, task_name: str, param_name: str) -> Any:
        """The parsed ``--Family-param`` value of command-line parser ``cmdline`` (may be None), or ``_no_value``."""
        if cmdline is None:
            return _no_value
        dest = self._parser_global_dest(param_name, task_name)
        return self._parse_or_no_value(getattr(cmdline.known_args, dest, None))

    def _config_path_value(self, task_name: str, param_name: str) -> tuple[Any, str]:
        """The value at the deprecated ``config_path`` location, with its deprecation message."""
        section, name = self._config_path["section"], self._config_path["name"]
        message = _CONFIG_PATH_DEPRECATION.format(section, name, task_name, param_name)
        return self._get_value_from_config(section, name), message

    def _value_iterator(self, task_name: str, param_name: str) -> Iterator[tuple[Any, str | None]]:
        """Yield ``(value, deprecation message or None)`` per source, highest priority first."""
        yield self._cmdline_value(task_name, param_name), None
        yield self._get_value_from_config(task_name, param_name), None
        if self._config_path:
            yield self._config_path_value(task_name, param_name)
        yield self._default, None

    def _has_stock_sources(self) -> bool:
        """True if the value sources are this module's, so ``_value_in`` may stand for ``_get_value``."""
        kind = type(self)
        return (
            kind._value_iterator is Parameter._value_iterator
            and kind._cmdline_value is Parameter._cmdline_value
            and kind._get_value_from_config is Parameter._get_value_from_config
        )

    def _get_value(self, task_name: str, param_name: str) -> Any:
        """The first value found by ``_value_iterator`` (not normalized), or ``_no_value``."""
        if self._has_stock_sources():
            return self._value_in(_active_cmdline_parser(), None, task_name, param_name)
        for value, deprecation in self._value_iterator(task_name, param_name):
            if value is not _no_value:
                if deprecation is not None:
                    warnings.warn(deprecation, DeprecationWarning, stacklevel=2)
                return value
        return _no_value

    def _value_in(self, cmdline: Any, conf: Any, task_name: str, param_name: str) -> Any:
        """``_get_value`` for stock sources, given the command-line parser and the config (None: fetch it).

        Same order as ``_value_iterator``, without a generator; a task resolving several defaults
        fetches the command line and the config once for all of them.
        """
        value = self._cmdline_value_in(cmdline, task_name, param_name) if cmdline is not None else _no_value
        if value is _no_value:
            value = self._config_value_in(configuration.get_config() if conf is None else conf, task_name, param_name)
        if value is _no_value and self._config_path:
            value, deprecation = self._config_path_value(task_name, param_name)
            if value is not _no_value:
                warnings.warn(deprecation, DeprecationWarning, stacklevel=2)
        if value is _no_value:
            value = self._default
        return value

    def has_task_value(self, task_name: str, param_name: str) -> bool:
        """Whether a value (command line, config, default) exists for ``task_name.param_name``."""
        return self._get_value(task_name, param_name) is not _no_value

    def task_value(self, task_name: str, param_name: str) -> Any:
        """The normalized value for ``task_name.param_name`` from command line, config or default."""
        value = self._get_value(task_name, param_name)
        if value is _no_value:
            raise MissingParameterException("No default specified")
        return self.normalize(value)

    # --- command line -----------------------------------------------------------------------
    @staticmethod
    def _parser_global_dest(param_name: str, task_name: str) -> str:
        return task_name + "_" + param_name

    @classmethod
    def _parser_kwargs(cls, param_name: str, task_name: str | None = None) -> dict[str, Any]:
        dest = cls._parser_global_dest(param_name, task_name) if task_name else param_name
        return {"action": "store", "dest": dest}


class StrParameter(Parameter[str]):
    """A parameter whose parsed value is always converted with ``str``."""

    def parse(self, x: Any) -> str:
        return str(x)


# --------------------------------------------------------------------------------------------
# Optional variants
# --------------------------------------------------------------------------------------------


class OptionalParameterMixin(Generic[_OptT]):
    """Makes a parameter accept ``None`` (its default), written as the empty string."""

    expected_type: Any = type(None)

    def __init__(self, default: Any = None, **kwargs: Any) -> None:
        super().__init__(default=default, **kwargs)

    def parse(self, x: Any) -> Any:
        if not isinstance(x, str):
            return x
        if x:
            return super().parse(x)
        return None

    def serialize(self, x: Any) -> str:
        if x is None:
            return ""
        return super().serialize(x)

    def normalize(self, x: Any) -> Any:
        if x is None:
            return None
        return super().normalize(x)

    def next_in_enumeration(self, value: Any) -> None:
        return None

    def _warn_on_wrong_param_type(self, param_name: str, param_value: Any) -> None:
        if param_value is None or isinstance(param_value, self.expected_type):
            return
        if isinstance(self.expected_type, tuple):
            names = ", ".join(f'"{t.__name__}"' for t in self.expected_type)
            expected = f"any type in [{names}]"
        else:
            expected = f'type "{self.expected_type.__name__}"'
        warnings.warn(
            f'{self.__class__.__name__} "{param_name}" with value "{param_value}" is not of {expected} or None.',
            OptionalParameterTypeWarning,
            stacklevel=2,
        )


class OptionalParameter(OptionalParameterMixin[str], Parameter[str | None]):
    """A string parameter that may be None."""

    expected_type = str


class OptionalStrParameter(OptionalParameterMixin[str], Parameter[str | None]):
    """A string parameter that may be None."""

    expected_type = str


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------


class _DateParameterBase(Parameter[datetime.date]):
    """Base of day/month/year parameters: values are ``datetime.date`` on a grid of ``interval``."""

    date_format: str | None = None  # strftime pattern, supplied by subclasses

    def __init__(
        self, default: Any = _no_value, interval: int = 1, start: datetime.date | None = None, **kwargs: Any
    ) -> None:
        super().__init__(default=default, **kwargs)
        self.interval = interval
        self.start = start if start is not None else _UNIX_EPOCH.date()

    def parse(self, s: Any) -> datetime.date:
        if isinstance(s, datetime.date):  # native TOML dates
            return s.date() if isinstance(s, datetime.datetime) else s
        return datetime.datetime.strptime(s, self.date_format).date()

    def serialize(self, dt: Any) -> str:
        if dt is None:
            return str(dt)
        return dt.strftime(self.date_format)


class DateParameter(_DateParameterBase):
    """A day, written ``2013-07-10``; values are clamped down onto ``start + k * interval`` days."""

    date_format = "%Y-%m-%d"

    def next_in_enumeration(self, value: datetime.date) -> datetime.date:
        return value + datetime.timedelta(days=self.interval)

    def normalize(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, datetime.datetime):
            value = value.date()
        delta = (value - self.start).days % self.interval
        return value - datetime.timedelta(days=delta)


class OptionalDateParameter(OptionalParameterMixin[datetime.date], DateParameter):
    """A day that may be None."""

    expected_type = datetime.date


class MonthParameter(DateParameter):
    """A month, written ``2013-07``; values are the first day of the month."""

    date_format = "%Y-%m"

    def _add_months(self, date: datetime.date, months: int) -> datetime.date:
        year = date.year + (date.month + months - 1) // 12
        month = (date.month + months - 1) % 12 + 1
        return datetime.date(year=year, month=month, day=1)

    def next_in_enumeration(self, value: datetime.date) -> datetime.date:
        return self._add_months(value, self.interval)

    def normalize(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, date_interval.Month):
            return value.date_a
        months = (value.year - self.start.year) * 12 + (value.month - self.start.month)
        months -= months % self.interval
        return self._add_months(self.start, months)


class YearParameter(DateParameter):
    """A year, written ``2013``; values are January 1st."""

    date_format = "%Y"

    def next_in_enumeration(self, value: datetime.date) -> datetime.date:
        return value.replace(year=value.year + self.interval)

    def normalize(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, date_interval.Year):
            return value.date_a
        delta = (value.year - self.start.year) % self.interval
        return datetime.date(year=value.year - delta, month=1, day=1)


class _DatetimeParameterBase(Parameter[datetime.datetime]):
    """Base of hour/minute/second parameters: naive datetimes on a grid of ``interval`` units."""

    date_format: str | None = None  # strftime pattern, supplied by subclasses
    _timedelta: datetime.timedelta | None = None  # one unit, supplied by subclasses

    def __init__(
        self, default: Any = _no_value, interval: int = 1, start: datetime.datetime | None = None, **kwargs: Any
    ) -> None:
        super().__init__(default=default, **kwargs)
        self.interval = interval
        self.start = start if start is not None else _UNIX_EPOCH

    def parse(self, s: Any) -> datetime.datetime:
        if isinstance(s, datetime.datetime):  # native TOML datetimes
            return s
        return datetime.datetime.strptime(s, self.date_format)

    def serialize(self, dt: Any) -> str:
        if dt is None:
            return str(dt)
        return dt.strftime(self.date_format)

    def normalize(self, dt: Any) -> Any:
        if dt is None:
            return None
        if not isinstance(dt, datetime.datetime):
            dt = datetime.datetime.combine(dt, datetime.time())
        dt = dt.replace(microsecond=0)
        start = self.start
        if dt.tzinfo is not None and start.tzinfo is None:
            start = start.replace(tzinfo=dt.tzinfo)  # anchor the grid in the value's time zone
        delta = (dt - start).total_seconds()
        granularity = (self._timedelta * self.interval).total_seconds()
        return dt - datetime.timedelta(seconds=delta % granularity)

    def next_in_enumeration(self, value: datetime.datetime) -> datetime.datetime:
        return value + self._timedelta * self.interval


class DateHourParameter(_DatetimeParameterBase):
    """An hour, written ``2013-07-10T19``."""

    date_format = "%Y-%m-%dT%H"
    _timedelta = datetime.timedelta(hours=1)


class DateMinuteParameter(_DatetimeParameterBase):
    """A minute, written ``2013-07-10T1907`` (the old ``2013-07-10T19H07`` is still read)."""

    date_format = "%Y-%m-%dT%H%M"
    _timedelta = datetime.timedelta(minutes=1)
    deprecated_date_format = "%Y-%m-%dT%HH%M"

    def parse(self, s: Any) -> datetime.datetime:
        if isinstance(s, str):
            try:
                value = datetime.datetime.strptime(s, self.deprecated_date_format)
            except ValueError:
                pass
            else:
                warnings.warn(
                    'Using "H" between hours and minutes is deprecated, omit it instead.',
                    DeprecationWarning,
                    stacklevel=2,
                )
                return value
        return super().parse(s)


class DateSecondParameter(_DatetimeParameterBase):
    """A second, written ``2013-07-10T190738``."""

    date_format = "%Y-%m-%dT%H%M%S"
    _timedelta = datetime.timedelta(seconds=1)


# --------------------------------------------------------------------------------------------
# Numbers and booleans
# --------------------------------------------------------------------------------------------


class IntParameter(Parameter[int]):
    """An integer."""

    def parse(self, x: Any) -> int:
        return int(x)

    def next_in_enumeration(self, value: int) -> int:
        return value + 1


class OptionalIntParameter(OptionalParameterMixin[int], IntParameter):
    """An integer that may be None."""

    expected_type = int


class FloatParameter(Parameter[float]):
    """A float."""

    def parse(self, x: Any) -> float:
        return float(x)


class OptionalFloatParameter(OptionalParameterMixin[float], FloatParameter):
    """A float that may be None."""

    expected_type = float


class BoolParameter(Parameter[bool]):
    """A boolean, ``False`` unless a default says otherwise.

    With implicit parsing the command-line flag takes no value (present means True); with explicit
    parsing it takes an optional ``true``/``false``.
    """

    IMPLICIT_PARSING = "implicit"
    EXPLICIT_PARSING = "explicit"
    parsing = IMPLICIT_PARSING

    def __init__(self, default: Any = _no_value, parsing: str | None = None, **kwargs: Any) -> None:
        # Read the class attribute now, so reassigning it affects only parameters created later.
        self.parsing = parsing if parsing is not None else self.parsing
        if default is _no_value:
            default = False
        super().__init__(default=default, **kwargs)

    def parse(self, x: Any) -> bool:
        text = str(x).lower()
        if text == "true":
            return True
        if text == "false":
            return False
        raise ValueError(f"cannot interpret '{x}' as boolean")

    def normalize(self, x: Any) -> bool | None:
        try:
            return self.parse(x)
        except ValueError:
            if x is not None:
                warnings.warn(f"BoolParameter got {x!r}, which is not a boolean; using None", stacklevel=2)
            return None

    def _parser_kwargs(self, param_name: str, task_name: str | None = None) -> dict[str, Any]:  # type: ignore[override]
        parser_kwargs = super()._parser_kwargs(param_name, task_name)
        if self.parsing == self.IMPLICIT_PARSING:
            parser_kwargs["action"] = "store_true"
        elif self.parsing == self.EXPLICIT_PARSING:
            parser_kwargs["nargs"] = "?"
            parser_kwargs["const"] = True
        else:
            raise ValueError(f"unknown parsing value '{self.parsing}'")
        return parser_kwargs


class OptionalBoolParameter(OptionalParameterMixin[bool], BoolParameter):
    """A boolean that may be None (its default)."""

    expected_type = bool


class NumericalParameter(Parameter[NumericalType]):
    """A number of ``var_type`` restricted (when parsed) to a range between ``min_value`` and ``max_value``."""

    def __init__(
        self,
        default: Any = _no_value,
        *,
        var_type: type | None = None,
        min_value: Any = None,
        max_value: Any = None,
        left_op: Callable[[Any, Any], bool] = operator.le,
        right_op: Callable[[Any, Any], bool] = operator.lt,
        **kwargs: Any,
    ) -> None:
        if var_type is None:
            raise ParameterException("var_type must be specified")
        if min_value is None:
            raise ParameterException("min_value must be specified")
        if max_value is None:
            raise ParameterException("max_value must be specified")
        self._var_type = var_type
        self._min_value = min_value
        self._max_value = max_value
        self._left_op = left_op
        self._right_op = right_op
        left = "[" if left_op is operator.le else "("
        right = ")" if right_op is operator.lt else "]"
        self._permitted_range = f"{var_type.__name__} in {left}{min_value}, {max_value}{right}"
        description = kwargs.pop("description", None)
        prefix = description + " " if description else ""
        super().__init__(default=default, description=prefix + "permitted values: " + self._permitted_range, **kwargs)

    def parse(self, x: Any) -> Any:
        value = self._var_type(x)
        if self._left_op(self._min_value, value) and self._right_op(value, self._max_value):
            return value
        raise ValueError(f"{x} is not in the set of {self._permitted_range}")


class OptionalNumericalParameter(OptionalParameterMixin[NumericalType], NumericalParameter[NumericalType]):
    """A range-restricted number that may be None (but is required unless a default is given)."""

    def __init__(self, default: Any = _no_value, **kwargs: Any) -> None:
        super().__init__(default=default, **kwargs)
        self.expected_type = self._var_type


# --------------------------------------------------------------------------------------------
# Intervals, durations, tasks, enums
# --------------------------------------------------------------------------------------------


class DateIntervalParameter(Parameter[date_interval.DateInterval]):
    """A ``luigi.date_interval`` value: ``2015``, ``2015-05``, ``2015-W35``, ``2015-11-04`` or a range."""

    _interval_kinds = (
        date_interval.Year,
        date_interval.Month,
        date_interval.Week,
        date_interval.Date,
        date_interval.Custom,
    )

    def parse(self, s: Any) -> date_interval.DateInterval:
        for kind in self._interval_kinds:
            interval = kind.parse(s)
            if interval is not None:
                return interval
        raise ValueError("Invalid date interval - could not be parsed")


def _unit_pattern(unit: str, number: str, spellings: str) -> str:
    return rf"((?P<{unit}>{number}) ?{spellings} ?)?"


def _number(text: str) -> float:
    """An exact int for integer text (no float rounding of large counts), else a float."""
    try:
        return int(text)
    except ValueError:
        return float(text)


class TimeDeltaParameter(Parameter[datetime.timedelta]):
    """A duration: seconds as a number, ISO 8601 (``P1DT2H``) or ``1 w 2 d 3 h 4 m 5 s`` style."""

    _ISO_REGEX = re.compile(
        r"P((?P<weeks>\d+)W|((?P<days>\d+)D)?(T((?P<hours>\d+)H)?((?P<minutes>\d+)M)?((?P<seconds>\d+)S)?)?)"
    )
    # Units in order, each optional; weeks may be negative and seconds fractional so that every
    # serialized value (negative ones and microseconds included) parses back.
    _SIMPLE_REGEX = re.compile(
        _unit_pattern("weeks", r"-?\d+", r"w(?:eek|k)?s?")
        + _unit_pattern("days", r"\d+", r"d(?:ay)?s?")
        + _unit_pattern("hours", r"\d+", r"h(?:our|r)?s?")
        + _unit_pattern("minutes", r"\d+", r"m(?:inute|in)?s?")
        + _unit_pattern("seconds", r"\d+(?:\.\d+)?", r"s(?:econd|ec)?s?")
    )

    def _apply_regex(self, regex: Any, input: str) -> datetime.timedelta | None:
        match = re.match(regex, input)
        if match is None:
            return None
        fields = {unit: _number(text) for unit, text in match.groupdict().items() if text is not None}
        if not fields:
            return None
        rest = input[match.end() :].strip()
        if rest:
            warnings.warn(f"Ignoring trailing text {rest!r} of time delta {input!r}", stacklevel=3)
        return datetime.timedelta(**fields)

    def _parseIso8601(self, input: str) -> datetime.timedelta | None:
        return self._apply_regex(self._ISO_REGEX, input)

    def _parseSimple(self, input: str) -> datetime.timedelta | None:
        return self._apply_regex(self._SIMPLE_REGEX, input)

    def parse(self, input: Any) -> datetime.timedelta:
        if isinstance(input, datetime.timedelta):
            return input
        result = None
        try:
            try:
                return datetime.timedelta(seconds=float(input))
            except ValueError:
                pass
            result = self._parseIso8601(input)
            if result is None:
                result = self._parseSimple(input)
        except OverflowError:  # e.g. "inf" or a huge count: report it like any other bad text
            pass
        if result is None:
            raise ParameterException(f"Invalid time delta - could not parse {input}")
        return result

    def serialize(self, x: datetime.timedelta) -> str:
        weeks, days = divmod(x.days, 7)
        hours, rest = divmod(x.seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        second_text = str(seconds)
        if x.microseconds:
            second_text = f"{seconds}.{x.microseconds:06d}".rstrip("0")
        return f"{weeks} w {days} d {hours} h {minutes} m {second_text} s"

    def _warn_on_wrong_param_type(self, param_name: str, param_value: Any) -> None:
        if self.__class__ is not TimeDeltaParameter:
            return
        if not isinstance(param_value, datetime.timedelta):
            warnings.warn(
                f'Parameter "{param_name}" with value "{param_value}" is not of type timedelta.', stacklevel=2
            )


class TaskParameter(Parameter[type[TaskType]]):
    """A task class, written as its family name (``my_namespace.MyTask``)."""

    def parse(self, input: str) -> Any:
        from luigi.task_register import Register

        return Register.get_task_cls(input)

    def serialize(self, cls: Any) -> str:
        return cls.get_task_family()


def _require_enum(enum_cls: Any) -> Any:
    if enum_cls is None:
        raise ParameterException("An enum class must be specified.")
    return enum_cls


class EnumParameter(Parameter[EnumParameterType]):
    """A member of ``enum``, written as its name."""

    def __init__(self, default: Any = _no_value, *, enum: type[enum.Enum] | None = None, **kwargs: Any) -> None:
        self._enum = _require_enum(enum)
        super().__init__(default=default, **kwargs)

    def parse(self, s: Any) -> Any:
        try:
            return self._enum[s]
        except KeyError:
            raise ValueError("Invalid enum value - could not be parsed") from None

    def normalize(self, x: Any) -> Any:
        # A member name given in code becomes the member (Luigi kept the string and failed later).
        if isinstance(x, str) and not isinstance(x, self._enum):
            return self._enum.__members__.get(x, x)
        return x

    def serialize(self, e: Any) -> str:
        return e.name


class EnumListParameter(Parameter[tuple[EnumParameterType, ...]]):
    """A tuple of members of ``enum``, written as comma-separated names."""

    _sep = ","

    def __init__(self, default: Any = _no_value, *, enum: type[enum.Enum] | None = None, **kwargs: Any) -> None:
        self._enum = _require_enum(enum)
        super().__init__(default=default, **kwargs)

    def parse(self, s: Any) -> tuple:
        values: list[Any] = []
        if s == "":
            return ()
        for i, name in enumerate(s.split(self._sep)):
            try:
                values.append(self._enum[name])
            except KeyError:
                raise ValueError(f'Invalid enum value "{name}" index {i} - could not be parsed') from None
        return tuple(values)

    def serialize(self, enum_values: Iterable[Any]) -> str:
        return self._sep.join(e.name for e in enum_values)


# --------------------------------------------------------------------------------------------
# JSON containers
# --------------------------------------------------------------------------------------------


class _DictParamEncoder(json.JSONEncoder):
    """JSON encoder that writes ``FrozenOrderedDict`` like a dict."""

    def default(self, obj: Any) -> Any:
        if isinstance(obj, FrozenOrderedDict):
            return obj.get_wrapped()
        return json.JSONEncoder.default(self, obj)


_NO_JSONSCHEMA_WARNING = (
    "The 'jsonschema' package is not installed so the parameter can not be validated even though a schema is given."
)


class _JsonSchemaMixin:
    """Optional JSON-schema validation (a schema dict or a validator object) before freezing."""

    def __init__(self, default: Any = _no_value, *, schema: Any = None, **kwargs: Any) -> None:
        if schema is not None and not _JSONSCHEMA_ENABLED:
            warnings.warn(_NO_JSONSCHEMA_WARNING, stacklevel=2)
            schema = None
        self.schema = schema
        super().__init__(default=default, **kwargs)

    def normalize(self, value: Any) -> Any:
        if self.schema is not None:
            unfrozen = recursively_unfreeze(value)
            if isinstance(self.schema, Mapping):
                _jsonschema().validate(instance=unfrozen, schema=self.schema)
            else:
                self.schema.validate(unfrozen)
            value = unfrozen  # a validator may have filled in defaults
        return recursively_freeze(value)

    def serialize(self, x: Any) -> str:
        return json.dumps(x, cls=_DictParamEncoder)


class DictParameter(_JsonSchemaMixin, Parameter[DictT]):
    """A JSON object; values are (hashable) ``FrozenOrderedDict``s keeping key order."""

    def parse(self, source: Any) -> Any:
        if not isinstance(source, str):  # native TOML tables
            return source
        return json.loads(source, object_pairs_hook=FrozenOrderedDict)


class OptionalDictParameter(OptionalParameterMixin[FrozenOrderedDict], DictParameter):
    """A JSON object that may be None."""

    expected_type = FrozenOrderedDict


class ListParameter(_JsonSchemaMixin, Parameter[ListT]):
    """A JSON array; values are tuples (nested ones too)."""

    def parse(self, x: Any) -> Any:
        if isinstance(x, (list, tuple)):  # native TOML arrays
            return list(x)
        value = json.loads(x, object_pairs_hook=FrozenOrderedDict)
        return None if value is None else list(value)


class OptionalListParameter(OptionalParameterMixin[ListT], ListParameter[ListT]):
    """A JSON array that may be None."""

    expected_type = tuple


class TupleParameter(ListParameter[ListT]):
    """A tuple, read as JSON (``[[1, 2], [3, 4]]``) or Python literal (``((1, 2), (3, 4))``)."""

    def parse(self, x: Any) -> Any:
        if isinstance(x, (list, tuple)):  # native TOML arrays
            return tuple(x)
        try:
            items = json.loads(x, object_pairs_hook=FrozenOrderedDict)
            return tuple(item if isinstance(item, str) else tuple(item) for item in items)
        except (ValueError, TypeError):
            result = ast.literal_eval(x)
            if isinstance(result, str):
                raise ValueError("Parsed result cannot be a string") from None
            return tuple(result)


class OptionalTupleParameter(OptionalParameterMixin[ListT], TupleParameter[ListT]):
    """A tuple that may be None."""

    expected_type = tuple


# --------------------------------------------------------------------------------------------
# Choices and paths
# --------------------------------------------------------------------------------------------


def _braced(items: Iterable[str]) -> str:
    return "{" + ", ".join(items) + "}"


class ChoiceParameter(Parameter[ChoiceType]):
    """One value out of ``choices`` (each of exactly ``var_type``)."""

    def __init__(self, default: Any = _no_value, *, choices: Any = None, var_type: type = str, **kwargs: Any) -> None:
        if choices is None:
            raise ParameterException("A choices iterable must be specified")
        ordered = list(dict.fromkeys(choices))
        self._choices = set(ordered)
        self._ordered_choices = ordered
        self._var_type = var_type
        assert all(type(choice) is var_type for choice in ordered), "Invalid type in choices"
        description = kwargs.pop("description", None)
        prefix = description + " " if description else ""
        super().__init__(default=default, description=prefix + "Choices: " + _braced(map(str, ordered)), **kwargs)

    def parse(self, s: Any) -> Any:
        return self.normalize(self._var_type(s))

    def _check_choice(self, value: Any) -> Any:
        if value in self._choices:
            return value
        # Like the repr of the set, but in the order the choices were given (deterministic).
        choices = _braced(map(repr, self._ordered_choices)) if self._ordered_choices else "set()"
        raise ValueError(f"{value} is not a valid choice from {choices}")

    def normalize(self, var: Any) -> Any:
        return self._check_choice(var)


class ChoiceListParameter(ChoiceParameter[ChoiceType]):
    """A tuple of values out of ``choices``, written comma-separated."""

    _sep = ","

    def __init__(self, default: Any = _no_value, var_type: type = str, choices: Any = None, **kwargs: Any) -> None:
        super().__init__(default=default, choices=choices, var_type=var_type, **kwargs)

    def parse(self, s: Any) -> tuple:
        if s == "":
            return ()
        return self.normalize(self._var_type(item) for item in s.split(self._sep))

    def normalize(self, var: Any) -> tuple:
        return tuple(self._check_choice(v) for v in var)

    def serialize(self, x: Iterable[Any]) -> str:
        return self._sep.join(str(v) for v in x)


class OptionalChoiceParameter(OptionalParameterMixin[ChoiceType], ChoiceParameter[ChoiceType]):
    """One value out of ``choices``, or None (required unless a default is given)."""

    def __init__(self, default: Any = _no_value, var_type: type = str, choices: Any = None, **kwargs: Any) -> None:
        super().__init__(default=default, choices=choices, var_type=var_type, **kwargs)
        self.expected_type = self._var_type


class PathParameter(Parameter[Path]):
    """A filesystem path; values are ``pathlib.Path``, optionally made absolute or required to exist."""

    def __init__(
        self, default: Any = _no_value, *, absolute: bool = False, exists: bool = False, **kwargs: Any
    ) -> None:
        self.absolute = absolute
        self.exists = exists
        super().__init__(default=default, **kwargs)

    def normalize(self, x: Any) -> Path:
        path = Path(x)
        if self.absolute:
            path = path.absolute()
        if self.exists and not path.exists():
            raise ValueError(f"The path {path} does not exist.")
        return path


class OptionalPathParameter(OptionalParameter, PathParameter):
    """A filesystem path that may be None."""

    expected_type = (str, Path)
