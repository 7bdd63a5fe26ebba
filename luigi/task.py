"""The task model: ``Task`` and its variants, namespaces, task ids and structure helpers.

A task is identified by its family (namespace + class name) and its significant public parameter
values; ``task_id_str`` turns those into the id exchanged with schedulers, so its algorithm is
fixed by compatibility with Luigi.

Performance notes (Luigi recomputes all of this on every instantiation): the parameter list of a
class, its positional subset, its family, which parameters enter the id / ``to_str_params`` /
``repr`` and the sorted JSON keys of the id are computed once per class into a ``_ClassInfo`` and
reused until a parameter or construction hook of the class, or a flag of one of its Parameter
objects, is reassigned. Parameter values are resolved once per construction (the instance cache
key and ``__init__`` share them when ``__init__`` is not overridden); defaults ask each parameter
once instead of twice, with the command line and config fetched once per construction.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import itertools
import json
import json.encoder
import logging
import re
import traceback
import typing
import warnings
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from json.encoder import encode_basestring_ascii
from typing import Any, TypeVar, Union

from luigi import configuration, parameter
from luigi.parameter import ParameterVisibility, UnconsumedParameterWarning  # noqa: F401 (re-exported)
from luigi.task_register import Register, _class_infos, _param_scans, _raw_class_attribute

__all__ = [
    "Task",
    "MixinNaiveBulkComplete",
    "DynamicRequirements",
    "ExternalTask",
    "WrapperTask",
    "Config",
    "BulkCompleteNotImplementedError",
    "namespace",
    "auto_namespace",
    "task_id_str",
    "externalize",
    "getpaths",
    "flatten",
    "flatten_output",
]

Parameter = parameter.Parameter
logger = logging.getLogger("luigi-interface")

TASK_ID_INCLUDE_PARAMS = 3
TASK_ID_TRUNCATE_PARAMS = 16
TASK_ID_TRUNCATE_HASH = 10
TASK_ID_INVALID_CHAR_REGEX = re.compile(r"[^A-Za-z0-9_]")
_SAME_AS_PYTHON_MODULE = "_same_as_python_module"
_ABSENT = object()
_NOT_USER_SPECIFIED = "__not_user_specified"

T = TypeVar("T")
FlattenableItems = Union[
    T, "list[FlattenableItems[T]]", "tuple[FlattenableItems[T], ...]", "dict[str, FlattenableItems[T]]"
]


def namespace(namespace: str | None = None, scope: str = "") -> None:
    """Set the namespace of task classes created from now on in modules under ``scope``."""
    Register._default_namespace_dict[scope] = namespace or ""


def auto_namespace(scope: str = "") -> None:
    """Give task classes created from now on under ``scope`` their module name as namespace."""
    namespace(namespace=_SAME_AS_PYTHON_MODULE, scope=scope)


def _unserializable(value: Any) -> Any:
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


# The C encoder json.dumps(params, separators=(",", ":"), sort_keys=True) builds on every call,
# built once (no circular-reference markers: parameter values are serialized strings).
_C_ID_ENCODER = json.encoder.c_make_encoder and json.encoder.c_make_encoder(
    None, _unserializable, encode_basestring_ascii, None, ":", ",", True, False, True
)


def _params_json(params: dict[str, Any]) -> str:
    """``json.dumps(params, separators=(",", ":"), sort_keys=True)``, without per-call setup."""
    if _C_ID_ENCODER is None:
        return json.dumps(params, separators=(",", ":"), sort_keys=True)
    return "".join(_C_ID_ENCODER(params, 0))


try:  # CPython's own md5 hashes short inputs about twice as fast as OpenSSL's (same digest)
    from _md5 import md5 as _md5
except ImportError:  # pragma: no cover (interpreters built without it)
    _md5 = hashlib.md5


def task_id_str(task_family: str, params: dict[str, Any]) -> str:
    """The task id: family, a readable summary of up to 3 params, and a truncated md5 of all params."""
    param_hash = _md5(_params_json(params).encode("utf-8"), usedforsecurity=False).hexdigest()
    summary = "_".join([params[name][:TASK_ID_TRUNCATE_PARAMS] for name in sorted(params)[:TASK_ID_INCLUDE_PARAMS]])
    summary = TASK_ID_INVALID_CHAR_REGEX.sub("_", summary)
    return f"{task_family}_{summary}_{param_hash[:TASK_ID_TRUNCATE_HASH]}"


def _id_keys(names: Iterable[str]) -> list[tuple[str, str, str | None]]:
    """Per id param, in sorted order: its JSON key text and its separator in the id summary (None: not shown)."""
    keys = []
    for i, name in enumerate(sorted(names)):
        key = ("," if i else "") + encode_basestring_ascii(name) + ":"
        keys.append((name, key, ("_" if i else "") if i < TASK_ID_INCLUDE_PARAMS else None))
    return keys


def _task_id_from_keys(task_family: str, id_keys: list[tuple[str, str, str | None]], params: dict[str, Any]) -> str:
    """``task_id_str(task_family, params)`` given ``_id_keys(params)``, which is fixed per task class."""
    text = "{"
    summary = ""
    try:
        for name, key, summary_separator in id_keys:
            value = params[name]
            text += key + encode_basestring_ascii(value)
            if summary_separator is not None:
                part = value[:TASK_ID_TRUNCATE_PARAMS]
                if not (part.isascii() and part.isalnum()):  # cheaper test than the substitution
                    part = TASK_ID_INVALID_CHAR_REGEX.sub("_", part)
                summary += summary_separator + part
    except TypeError:  # a serialize() that returned something else than a string
        return task_id_str(task_family, params)
    param_hash = _md5((text + "}").encode(), usedforsecurity=False).hexdigest()
    return f"{task_family}_{summary}_{param_hash[:TASK_ID_TRUNCATE_HASH]}"


class BulkCompleteNotImplementedError(NotImplementedError):
    """Raised by the default ``Task.bulk_complete``; range tools then check tasks one by one."""


def _overrides(cls: type, name: str) -> bool:
    """True if ``cls`` replaces the ``Task`` implementation of method ``name``."""
    return _raw_class_attribute(cls, name) is not Task.__dict__[name]


def _scan_params(cls: type) -> list[tuple[str, Any]]:
    """Every Parameter reachable as a class attribute, in creation order of the Parameter objects.

    Cached per class (callers must not mutate the list).
    """
    params = _param_scans.get(cls)
    if params is not None:
        return params
    params = []
    for name in dir(cls):
        value = getattr(cls, name)
        if isinstance(value, Parameter):
            params.append((name, value))
    params.sort(key=lambda pair: pair[1]._counter)  # stable: shared objects keep alphabetical order
    _param_scans[cls] = params
    return params


# How a parameter not given to the constructor is looked up (see ``_lookup_kind``).
_LOOKUP_GENERIC, _LOOKUP_ONCE, _LOOKUP_SHARED = 0, 1, 2


def _lookup_kind(param: Any) -> int:
    """How to resolve ``param``'s default: ``has_task_value`` + ``task_value`` as the spec says, or,
    when those are the stock ones, a single ``_get_value``, or (stock sources too) ``_value_in``
    with the command line and config fetched once per task."""
    kind = type(param)
    if kind.has_task_value is not Parameter.has_task_value or kind.task_value is not Parameter.task_value:
        return _LOOKUP_GENERIC
    if kind._get_value is not Parameter._get_value or not param._has_stock_sources():
        return _LOOKUP_ONCE
    return _LOOKUP_SHARED


def _parameter_description(family: str, args: Any, kwargs: Any) -> str:
    return f"{family}[args={args}, kwargs={kwargs}]"


def _resolve_defaults(
    table: _ParamTable, family: str, result: dict[str, Any], args: Any, kwargs: dict[str, Any]
) -> None:
    """Add to ``result`` the parameters not given to the constructor: command line, config, default."""
    sources = None  # (command-line parser, config), fetched for the first parameter that needs them
    lookups = table.lookups
    for name, param in table.params:
        if name in result:
            continue
        lookup = lookups[name]
        try:
            if lookup == _LOOKUP_SHARED:
                if sources is None:
                    sources = (parameter._active_cmdline_parser(), configuration.get_config())
                value = param._value_in(sources[0], sources[1], family, name)
                found = value is not parameter._no_value
            elif lookup == _LOOKUP_ONCE:
                value = param._get_value(family, name)
                found = value is not parameter._no_value
            else:
                found = param.has_task_value(family, name)
        except Exception as exc:
            raise ValueError(
                f"{_parameter_description(family, args, kwargs)}: Error when parsing the default value of '{name}'"
            ) from exc
        if not found:
            raise parameter.MissingParameterException(
                f"{_parameter_description(family, args, kwargs)}: requires the '{name}' parameter to be set"
            )
        result[name] = param.task_value(family, name) if lookup == _LOOKUP_GENERIC else param.normalize(value)


def _warn_unconsumed_config(cls: type, family: str, consumed: dict[str, Any], config: Any) -> None:
    """Warn once per class and key about keys of the section ``[family]`` of ``config`` that are not params."""
    warned = cls.__dict__.get("_unconsumed_params")
    if warned is None:  # normally created with the class's _ClassInfo
        warned = set()
        type.__setattr__(cls, "_unconsumed_params", warned)
    ignored = getattr(cls, "ignore_unconsumed", set())
    for key, value in config.items(family):
        key = key.replace("-", "_")
        composite = f"{family}_{key}"
        if key not in consumed and key not in ignored and composite not in warned:
            warnings.warn(
                f"The configuration contains the parameter '{key}' with value '{value}' that is not consumed by "
                f"the task '{family}'.",
                UnconsumedParameterWarning,
                stacklevel=2,
            )
            warned.add(composite)


# Which values ``param._warn_on_wrong_param_type`` needs to see (see ``_type_check``).
_CHECK_NONE, _CHECK_NON_STRINGS, _CHECK_ALL = 0, 1, 2


def _type_check(param: Any) -> int:
    """Which values need ``param._warn_on_wrong_param_type``: none, non-strings only, or all.

    The stock checks of ``Parameter`` and ``TimeDeltaParameter`` only look at values of exactly
    that class, so typed subclasses (``IntParameter``...) need no call per task, and the plain
    ``Parameter`` check only warns about non-strings.
    """
    kind = type(param)
    method = kind._warn_on_wrong_param_type
    if method is Parameter._warn_on_wrong_param_type:
        return _CHECK_NON_STRINGS if kind is Parameter else _CHECK_NONE
    if method is parameter.TimeDeltaParameter._warn_on_wrong_param_type and kind is not parameter.TimeDeltaParameter:
        return _CHECK_NONE
    return _CHECK_ALL


class _ParamTable:
    """Views of a ``(name, Parameter)`` list used to resolve constructor arguments."""

    __slots__ = ("params", "by_name", "positional", "lookups")

    def __init__(self, params: list[tuple[str, Any]]) -> None:
        self.params = params
        self.by_name = dict(params)
        self.positional = [(name, p) for name, p in params if p.positional]
        self.lookups = {name: _lookup_kind(p) for name, p in params}

    def values(self, cls: type, family: str, args: Any, kwargs: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
        """The ``get_param_values`` algorithm (as a tuple: it is also the instance cache key)."""
        result: dict[str, Any] = {}
        if args:
            positional = self.positional
            for i, arg in enumerate(args):
                if i >= len(positional):
                    raise parameter.UnknownParameterException(
                        f"{_parameter_description(family, args, kwargs)}: takes at most {len(positional)} "
                        f"parameters ({len(args)} given)"
                    )
                name, param = positional[i]
                result[name] = param.normalize(arg)
        by_name = self.by_name
        for name, arg in kwargs.items():
            if name in result:
                raise parameter.DuplicateParameterException(
                    f"{_parameter_description(family, args, kwargs)}: parameter {name} was already set as a "
                    "positional parameter"
                )
            param = by_name.get(name)
            if param is None:
                raise parameter.UnknownParameterException(
                    f"{_parameter_description(family, args, kwargs)}: unknown parameter {name}"
                )
            result[name] = param.normalize(arg)
        params = self.params
        if len(result) < len(params):
            _resolve_defaults(self, family, result, args, kwargs)
        config = configuration.get_config()
        if config.has_section(family):
            _warn_unconsumed_config(cls, family, result, config)
        values = []
        for name, _ in params:
            value = result[name]
            values.append((name, tuple(value) if isinstance(value, (list, set)) else value))
        return tuple(values)


class _ClassInfo(_ParamTable):
    """Per-class introspection results, cached until a parameter or hook of the class (or a base) changes.

    Besides the parameter views it holds what every construction of a plain class needs: which
    parameters need a type check, which ones enter the task id (with their sorted JSON keys), which
    ones each ``to_str_params`` flavour and ``repr`` show. Reassigning ``significant``,
    ``positional``, ``visibility`` or ``batch_method`` of a Parameter also drops these tables.
    """

    __slots__ = (
        "family",
        "custom_params",
        "custom_values",
        "plain_init",
        "plain_family",
        "table_id",
        "typed",
        "id_params",
        "id_keys",
        "str_filters",
        "repr_params",
        "batch_names",
        "run_keys_reserved",
    )

    def __init__(self, cls: type) -> None:
        self.run_keys_reserved = False
        self.family = cls.get_task_family()
        self.plain_family = not _overrides(cls, "get_task_family")
        custom_params = self.custom_params = _overrides(cls, "get_params")
        self.custom_values = custom_params or _overrides(cls, "get_param_values")
        super().__init__(cls.get_params() if custom_params else _scan_params(cls))
        # Without a custom __init__/__new__ the values resolved for the cache key are reused.
        self.plain_init = cls.__init__ is _TASK_INIT and cls.__new__ is object.__new__
        # Without custom hooks the task id is computed from the tables below.
        self.table_id = (
            self.plain_family
            and not self.custom_values
            and not _overrides(cls, "_warn_on_wrong_param_types")
            and not _overrides(cls, "to_str_params")
        )
        public = ParameterVisibility.PUBLIC
        private = ParameterVisibility.PRIVATE
        checks = [(name, p, _type_check(p)) for name, p in self.params]
        self.typed = [(name, p, check == _CHECK_NON_STRINGS) for name, p, check in checks if check != _CHECK_NONE]
        self.id_params = [(name, p) for name, p in self.params if p.significant and p.visibility == public]
        self.id_keys = _id_keys(name for name, _ in self.id_params)
        # to_str_params(only_significant, only_public): index 2 * only_significant + only_public
        self.str_filters = [
            {
                name: p
                for name, p in self.params
                if (not significant or p.significant) and (not public_only or p.visibility == public)
                and p.visibility != private
            }
            for significant in (False, True)
            for public_only in (False, True)
        ]
        self.repr_params = [(name, p, name + "=") for name, p in self.params if p.significant]
        self.batch_names = [name for name, p in self.params if p._is_batchable()]
        if "_unconsumed_params" not in cls.__dict__:  # per class: Luigi shares the first ancestor's set
            type.__setattr__(cls, "_unconsumed_params", set())

    def init_instance(self, task: Task, values: Iterable[tuple[str, Any]]) -> None:
        """Steps of ``Task.__init__`` after the parameter values are known."""
        for name, value in values:
            setattr(task, name, value)
        param_kwargs = task.param_kwargs = dict(values)
        if self.table_id:  # the general branch below, with the per-class tables
            for name, param, non_strings_only in self.typed:
                value = param_kwargs[name]
                if not (non_strings_only and isinstance(value, str)):
                    param._warn_on_wrong_param_type(name, value)
            serialized = {}
            for name, param in self.id_params:
                serialized[name] = param.serialize(param_kwargs[name])
            task_id = task.task_id = _task_id_from_keys(self.family, self.id_keys, serialized)
        else:
            task._warn_on_wrong_param_types()
            task_id = task.task_id = task_id_str(
                task.get_task_family(), task.to_str_params(only_significant=True, only_public=True)
            )
        task._Task__hash = hash(task_id)
        task.set_tracking_url = None
        task.set_status_message = None
        task.set_progress_percentage = None
        if not self.run_keys_reserved:
            self.run_keys_reserved = True
            _reserve_run_attributes(task)


def _reserve_run_attributes(task: Task) -> None:
    """Put the attributes a run adds to a task into the class's shared instance-dict keys.

    CPython shares one key table among the instance dicts of a class. The worker sets the
    reporter hooks missing so far (``decrease_running_resources``, ``scheduler_messages``) when a
    task runs; set first on instances that already exist (a build creates all its tasks before
    running any), each of them would get a private ~460-byte dict. Setting and deleting them
    once on the first instance of the class adds the names to the shared keys, so later
    instances have room for them; no instance has them before it runs (``hasattr`` stays False).
    """
    missing = [name for name in _reporter_attribute_names() if not hasattr(task, name)]
    for name in missing:
        setattr(task, name, None)
    for name in missing:
        delattr(task, name)


_handler_order: dict[tuple[Any, Any, Any], int] = {}
_handler_counter = itertools.count()


class _CallbackTable(dict):
    """``Task._event_callbacks``: a plain dict that counts changes to its set of classes.

    Dispatch caches, per task class, which registered classes it is an instance of; the version
    tells when that cache is stale (handlers added to an already present class need no new version).
    """

    version = 0

    def _changed(self) -> None:
        self.version += 1

    def __setitem__(self, key: Any, value: Any) -> None:
        self._changed()
        super().__setitem__(key, value)

    def __delitem__(self, key: Any) -> None:
        self._changed()
        super().__delitem__(key)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self._changed()
        return super().setdefault(key, default)

    def pop(self, *args: Any) -> Any:
        self._changed()
        return super().pop(*args)

    def popitem(self) -> tuple[Any, Any]:
        self._changed()
        return super().popitem()

    def clear(self) -> None:
        self._changed()
        super().clear()

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._changed()
        super().update(*args, **kwargs)

    def __ior__(self, other: Any) -> _CallbackTable:
        self._changed()
        return super().__ior__(other)


# task class -> (callback table, its version, registered classes the task class derives from)
_dispatch_cache: dict[type, tuple[Any, int, list[Any]]] = {}


def _handler_classes(table: dict[Any, Any], task_class: type) -> list[Any]:
    """The classes with registered handlers that apply to instances of ``task_class``, in table order."""
    cached = _dispatch_cache.get(task_class)
    if cached is not None and cached[0] is table and cached[1] == table.version:  # only tables with versions are cached
        return cached[2]
    version = getattr(table, "version", None)
    classes = [klass for klass in list(table) if isinstance(klass, type) and issubclass(task_class, klass)]
    if version is not None:
        _dispatch_cache[task_class] = (table, version, classes)
    return classes


def _dataclass_transform(cls: type) -> type:
    """Mark ``Task`` for type checkers as a dataclass-like class whose fields are Parameters."""
    transform = getattr(typing, "dataclass_transform", None)
    if transform is None:  # Python 3.10
        return cls
    return transform(eq_default=False, order_default=False, kw_only_default=True, field_specifiers=(Parameter,))(cls)


@_dataclass_transform
class Task(metaclass=Register):
    """A unit of work: parameters identify it, ``requires``/``output``/``run`` define it."""

    _event_callbacks: dict[Any, dict[Any, set[Callable[..., Any]]]] = _CallbackTable()

    priority: Any = 0
    disabled = False
    resources: dict[str, Any] = {}
    worker_timeout: float | None = None
    max_batch_size: float = float("inf")
    task_namespace: Any = _NOT_USER_SPECIFIED
    _visible_in_registry = True

    # ------------------------------------------------------------------- overridable properties

    @property
    def batchable(self) -> bool:
        return bool(self.batch_param_names())

    @property
    def retry_count(self) -> int | None:
        return None

    @property
    def disable_hard_timeout(self) -> float | None:
        return None

    @property
    def disable_window(self) -> float | None:
        return None

    @property
    def disable_window_seconds(self) -> float | None:
        warnings.warn(
            "Use of `disable_window_seconds` has been deprecated, use `disable_window` instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.disable_window

    @property
    def owner_email(self) -> str | list[str] | None:
        return None

    def _owner_list(self) -> list[str]:
        """Extra e-mail recipients; a comma separated string is split and trimmed."""
        owner_email = self.owner_email
        if owner_email is None:
            return []
        if isinstance(owner_email, str):
            return [owner.strip() for owner in owner_email.split(",")]
        return owner_email

    @property
    def use_cmdline_section(self) -> bool:
        return True

    @property
    def accepts_messages(self) -> bool:
        return False

    @property
    def task_module(self) -> str:
        return self.__class__.__module__

    @property
    def task_family(self) -> str:
        cls = self.__class__
        info = _class_infos.get(cls)
        if info is not None and info.plain_family:  # what the metaclass property returns, without two calls
            return info.family
        return cls.task_family

    # --------------------------------------------------------------------- namespace and family

    @classmethod
    def get_task_namespace(cls) -> Any:
        if cls.task_namespace != _NOT_USER_SPECIFIED:
            return cls.task_namespace
        if cls._namespace_at_class_time == _SAME_AS_PYTHON_MODULE:
            return cls.__module__
        return cls._namespace_at_class_time

    @classmethod
    def get_task_family(cls) -> str:
        task_namespace = cls.get_task_namespace()
        if not task_namespace:
            return cls.__name__
        return f"{task_namespace}.{cls.__name__}"

    # ------------------------------------------------------------------- parameter introspection

    @classmethod
    def _class_info(cls) -> _ClassInfo:
        info = _class_infos.get(cls)
        if info is None:
            info = _class_infos[cls] = _ClassInfo(cls)
        return info

    @classmethod
    def get_params(cls) -> list[tuple[str, Any]]:
        """``(name, Parameter)`` pairs of the class, in creation order of the Parameter objects."""
        return list(_scan_params(cls))

    @classmethod
    def batch_param_names(cls) -> list[str]:
        info = _class_infos.get(cls) or cls._class_info()
        if info.custom_params:
            return [name for name, p in cls.get_params() if p._is_batchable()]
        return list(info.batch_names)

    @classmethod
    def get_param_names(cls, include_significant: bool = False) -> list[str]:
        """Names of the significant params, or of all params if ``include_significant`` is true."""
        return [name for name, p in cls.get_params() if include_significant or p.significant]

    @classmethod
    def get_param_values(
        cls, params: list[tuple[str, Any]], args: Any, kwargs: dict[str, Any]
    ) -> list[tuple[str, Any]]:
        """Resolve every param in ``params`` from positional args, kwargs, command line, config, default."""
        info = cls._class_info()
        if params == info.params:  # the usual call (e.g. from an overridden __init__): reuse the cached views
            return list(info.values(cls, info.family, args, kwargs))
        return list(_ParamTable(params).values(cls, cls.get_task_family(), args, kwargs))

    # --------------------------------------------------------------------------- construction

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        params = self.get_params()
        values = self.get_param_values(params, args, kwargs)
        self._class_info().init_instance(self, values)

    def __setstate__(self, state: Any) -> None:
        """Unpickling: the pickled hash of the id came from another interpreter's string hashing."""
        if isinstance(state, tuple):
            state, slot_state = state
            for name, value in (slot_state or {}).items():
                setattr(self, name, value)
        self.__dict__.update(state or {})
        if "task_id" in self.__dict__:
            self.__hash = hash(self.task_id)

    def initialized(self) -> bool:
        """False if a subclass ``__init__`` forgot to call ``super().__init__``."""
        return hasattr(self, "task_id")

    def _warn_on_wrong_param_types(self) -> None:
        params = self._class_info().by_name
        for name, value in self.param_kwargs.items():
            params[name]._warn_on_wrong_param_type(name, value)

    @property
    def param_args(self) -> tuple[Any, ...]:
        warnings.warn("Use of param_args has been deprecated.", DeprecationWarning, stacklevel=2)
        return tuple(self.param_kwargs[name] for name, _ in self.get_params())

    @classmethod
    def from_str_params(cls, params_str: dict[str, Any]) -> Task:
        """Build an instance from serialized values (lists are batches, combined by ``batch_method``)."""
        kwargs = {}
        for name, param in cls.get_params():
            if name in params_str:
                value = params_str[name]
                kwargs[name] = param._parse_list(value) if isinstance(value, list) else param.parse(value)
        return cls(**kwargs)

    def to_str_params(self, only_significant: bool = False, only_public: bool = False) -> dict[str, str]:
        """Serialized non-private param values, optionally only significant and/or public ones."""
        cls = self.__class__
        info = _class_infos.get(cls) or cls._class_info()
        shown = info.str_filters[(2 if only_significant else 0) + (1 if only_public else 0)]
        params_str = {}
        for name, value in self.param_kwargs.items():  # its order, and names added to it later
            param = shown.get(name)
            if param is not None:
                params_str[name] = param.serialize(value)
        return params_str

    def _get_param_visibilities(self) -> dict[str, int]:
        params = self._class_info().by_name
        private = ParameterVisibility.PRIVATE
        return {
            name: params[name].visibility.serialize()
            for name in self.param_kwargs
            if name in params and params[name].visibility != private
        }

    def clone(self, cls: type | None = None, **kwargs: Any) -> Task:
        """Another task (default: same class) with this task's values, overridden by ``kwargs``."""
        if cls is None:
            cls = self.__class__
        new_kwargs = {}
        for name, _ in cls.get_params():
            if name in kwargs:
                new_kwargs[name] = kwargs[name]
            else:
                value = getattr(self, name, _ABSENT)  # hasattr + getattr in one lookup
                if value is not _ABSENT:
                    new_kwargs[name] = value
        return cls(**new_kwargs)

    # ------------------------------------------------------------------------------- identity

    def __hash__(self) -> int:
        return self.__hash

    def __eq__(self, other: object) -> bool:
        return self.__class__ == other.__class__ and self.task_id == other.task_id

    def __repr__(self) -> str:
        """``Family(p1=v1, p2=v2)`` over the significant params, in declaration order."""
        cls = self.__class__
        info = _class_infos.get(cls) or cls._class_info()
        values = self.param_kwargs
        if not values.keys() >= info.by_name.keys():  # params attached after construction
            values = dict(self.get_param_values(info.params, [], values))
        shown = ", ".join([prefix + p.serialize(values[name]) for name, p, prefix in info.repr_params])
        return f"{info.family if info.plain_family else self.get_task_family()}({shown})"

    # ------------------------------------------------------- dependencies, outputs and execution

    def requires(self) -> Any:
        return []

    def _requires(self) -> list[Task]:
        return flatten(self.requires())

    def deps(self) -> list[Task]:
        return flatten(self._requires())

    def input(self) -> Any:
        return getpaths(self.requires())

    def output(self) -> Any:
        return []

    def complete(self) -> bool:
        """All outputs exist; an output-less task is never complete (warned once per instance)."""
        outputs = flatten(self.output())
        if len(outputs) == 0:
            if not self.__dict__.get("_Task__warned_no_outputs"):
                self.__dict__["_Task__warned_no_outputs"] = True
                warnings.warn(f"Task {self!r} without outputs has no custom complete() method", stacklevel=2)
            return False
        return all(output.exists() for output in outputs)

    @classmethod
    def bulk_complete(cls, parameter_tuples: Iterable[Any]) -> Any:
        raise BulkCompleteNotImplementedError()

    def run(self) -> Any:
        pass

    def process_resources(self) -> dict[str, Any]:
        return self.resources

    def on_success(self) -> Any:
        pass

    def on_failure(self, exception: BaseException) -> str:
        return "Runtime error:\n" + traceback.format_exc()

    @contextmanager
    def no_unpicklable_properties(self) -> Iterator[None]:
        """Temporarily replace reporter hooks (unpicklable) by placeholders, e.g. around ``pickle.dumps(self)``."""
        saved = {}
        for name in _reporter_attribute_names():
            if hasattr(self, name):
                saved[name] = getattr(self, name)
                setattr(self, name, "placeholder_during_pickling")
        try:
            yield
        finally:
            for name, value in saved.items():
                setattr(self, name, value)

    # --------------------------------------------------------------------------------- events

    @classmethod
    def event_handler(cls, event: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator registering a callback for ``event`` on instances of this class and subclasses."""

        def wrapped(callback: Callable[..., Any]) -> Callable[..., Any]:
            cls._event_callbacks.setdefault(cls, {}).setdefault(event, set()).add(callback)
            _handler_order.setdefault((cls, event, callback), next(_handler_counter))
            return callback

        return wrapped

    @classmethod
    def remove_event_handler(cls, event: Any, callback: Callable[..., Any]) -> None:
        cls._event_callbacks[cls][event].remove(callback)
        _handler_order.pop((cls, event, callback), None)

    def trigger_event(self, event: Any, *args: Any, **kwargs: Any) -> None:
        """Call the handlers of ``event`` registered on this task's classes, in registration order.

        Errors in handlers are logged and do not stop the others; ``KeyboardInterrupt`` and
        ``SystemExit`` propagate.
        """
        table = self._event_callbacks
        if not table:  # nothing registered anywhere: the common case, once per event per task
            return
        for klass in _handler_classes(table, type(self)):
            handlers = table.get(klass)
            callbacks = handlers.get(event) if handlers else None
            if not callbacks:
                continue
            if len(callbacks) > 1:
                callbacks = sorted(callbacks, key=lambda cb: _handler_order.get((klass, event, cb), float("inf")))
            for callback in list(callbacks):
                try:
                    callback(*args, **kwargs)
                except Exception:
                    logger.exception("Error in event callback for %r", event)


# The original constructor, so a patched ``Task.__init__`` (e.g. by a mocking library) is still called.
_TASK_INIT = Task.__init__


def _reporter_attribute_names() -> Iterable[str]:
    """Names of the task attributes the worker binds to its status reporter while ``run()`` executes."""
    from luigi.worker import TaskProcess  # the worker imports this module

    return TaskProcess.forward_reporter_attributes.values()


class MixinNaiveBulkComplete:
    """Mixin giving ``bulk_complete`` by checking each task's ``complete()``."""

    @classmethod
    def bulk_complete(cls, parameter_tuples: Iterable[Any]) -> list[Any]:
        generated_tuples = []
        for parameter_tuple in parameter_tuples:
            if isinstance(parameter_tuple, (list, tuple)):
                instance = cls(*parameter_tuple)
            elif isinstance(parameter_tuple, dict):
                instance = cls(**parameter_tuple)
            else:
                instance = cls(parameter_tuple)
            if instance.complete():
                generated_tuples.append(parameter_tuple)
        return generated_tuples


class DynamicRequirements:
    """Requirements yielded from ``run()`` with an optional custom completeness check."""

    def __init__(self, requirements: Any, custom_complete: Callable[[Callable[[Task], bool]], bool] | None = None):
        self.requirements = requirements
        self.custom_complete = custom_complete
        self._flat_requirements: list[Task] | None = None
        self._paths: Any = None

    @property
    def flat_requirements(self) -> list[Task]:
        if self._flat_requirements is None:
            self._flat_requirements = flatten(self.requirements)
        return self._flat_requirements

    @property
    def paths(self) -> Any:
        if self._paths is None:
            self._paths = getpaths(self.requirements)
        return self._paths

    def complete(self, complete_fn: Callable[[Task], bool] | None = None) -> bool:
        if complete_fn is None:

            def complete_fn(task: Task) -> bool:
                return task.complete()

        if self.custom_complete:
            return self.custom_complete(complete_fn)
        return all(complete_fn(task) for task in self.flat_requirements)


class ExternalTask(Task):
    """A task produced outside Luigi: never run, only checked for completeness."""

    run = None


def externalize(taskclass_or_taskobject: Any) -> Any:
    """An external (``run = None``) copy of a task class or instance; the original is unchanged."""
    copied = copy.copy(taskclass_or_taskobject)
    if copied is taskclass_or_taskobject:  # a class: copy.copy returns classes unchanged

        @_task_wraps(taskclass_or_taskobject)
        class _CopyOfClass(taskclass_or_taskobject):
            _visible_in_registry = False

        _CopyOfClass.run = None
        return _CopyOfClass
    copied.run = None
    if isinstance(getattr(copied, "param_kwargs", None), dict):
        copied.param_kwargs = dict(copied.param_kwargs)  # Luigi shares it with the original
    return copied


class WrapperTask(Task):
    """A task that only groups its requirements; complete when all of them are."""

    def complete(self) -> bool:
        return all(requirement.complete() for requirement in flatten(self.requires()))


class Config(Task):
    """A task class used as a typed configuration section named after its family."""


# ------------------------------------------------------------------------------ structure helpers


def _rebuild(struct: Any, items: Iterable[Any]) -> Any:
    """A container of ``struct``'s type holding ``items`` (namedtuples and defaultdicts included)."""
    kind = type(struct)
    if kind is list or kind is tuple or kind is dict:
        return kind(items)
    if isinstance(struct, tuple) and hasattr(struct, "_fields"):
        return kind(*items)
    if isinstance(struct, defaultdict):
        return kind(struct.default_factory, items)
    return kind(items)


def getpaths(struct: Any) -> Any:
    """Replace every Task in a structure of tasks by its ``output()``, keeping the structure."""
    if isinstance(type(struct), Register):  # a task (cheaper than the ABC isinstance check)
        return struct.output()
    if isinstance(struct, dict):
        return _rebuild(struct, ((key, getpaths(value)) for key, value in struct.items()))
    if isinstance(struct, (list, tuple)):
        return _rebuild(struct, [getpaths(item) for item in struct])
    if isinstance(struct, (str, bytes)):  # iterable, but never a structure of tasks
        raise Exception(f"Cannot map {struct} to Task/dict/list")
    try:
        iterator = iter(struct)
    except TypeError:
        raise Exception(f"Cannot map {struct} to Task/dict/list")
    return [getpaths(item) for item in iterator]


def _all_tasks(items: list[Any] | tuple[Any, ...]) -> bool:
    """True if every item is a task; for long sequences, asks once per distinct item class."""
    if len(items) < 8:
        kinds: Iterable[type] = map(type, items)
    else:
        try:
            kinds = set(map(type, items))
        except TypeError:  # a class whose metaclass makes it unhashable: not a task class
            return False
    for kind in kinds:
        if not isinstance(kind, Register):
            return False
    return True


def flatten(struct: Any) -> list[Any]:
    """All leaves of nested dicts (values), lists, tuples, sets and iterables; strings are leaves."""
    if struct is None:
        return []
    kind = type(struct)
    if isinstance(kind, Register):  # a task (cheaper than the ABC isinstance check)
        return [struct]
    if kind is list or kind is tuple:  # what requires() usually returns: often empty or only tasks
        if not struct:
            return []
        if _all_tasks(struct):
            return list(struct)
    flat: list[Any] = []
    if isinstance(struct, dict):
        for value in struct.values():
            flat += flatten(value)
        return flat
    if isinstance(struct, (str, bytes)):
        return [struct]
    try:
        iterator = iter(struct)
    except TypeError:
        return [struct]
    for item in iterator:
        flat += flatten(item)
    return flat


def flatten_output(task: Task) -> list[Any]:
    """Outputs of ``task``, or of its nearest requirements with outputs if it has none (breadth first)."""
    output_tasks: dict[Task, None] = {}
    seen: set[Task] = set()
    queue = deque([task])
    while queue:
        current = queue.popleft()
        if current in seen:
            continue
        seen.add(current)
        if flatten(current.output()):
            output_tasks[current] = None
        else:
            queue.extend(flatten(current.requires()))
    return flatten([t.output() for t in output_tasks])


def _task_wraps(task_class: type) -> Callable[[type], type]:
    """Class decorator making a wrapper subclass look like ``task_class`` (name, module, namespace)."""
    return functools.wraps(
        task_class, assigned=functools.WRAPPER_ASSIGNMENTS + ("_namespace_at_class_time",), updated=[]
    )
