"""The task model: ``Task`` and its variants, namespaces, task ids and structure helpers.

A task is identified by its family (namespace + class name) and its significant public parameter
values; ``task_id_str`` turns those into the id exchanged with schedulers, so its algorithm is
fixed by compatibility with Luigi.

Performance notes (Luigi recomputes all of this on every instantiation): the parameter list of a
class, its positional subset and its family are computed once per class into a ``_ClassInfo`` and
reused until a parameter or construction hook of some task class is reassigned; parameter values
are resolved once per construction (the instance cache key and ``__init__`` share them when
``__init__`` is not overridden); default lookup asks each parameter once instead of twice.
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


def task_id_str(task_family: str, params: dict[str, Any]) -> str:
    """The task id: family, a readable summary of up to 3 params, and a truncated md5 of all params."""
    param_hash = hashlib.md5(_params_json(params).encode("utf-8"), usedforsecurity=False).hexdigest()
    summary = "_".join([params[name][:TASK_ID_TRUNCATE_PARAMS] for name in sorted(params)[:TASK_ID_INCLUDE_PARAMS]])
    summary = TASK_ID_INVALID_CHAR_REGEX.sub("_", summary)
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


def _single_lookup(param: Any) -> bool:
    """True if ``param`` uses the stock value lookup, which can be asked once via ``_get_value``."""
    kind = type(param)
    return (
        kind.has_task_value is Parameter.has_task_value
        and kind.task_value is Parameter.task_value
        and hasattr(Parameter, "_get_value")
    )


def _parameter_description(family: str, args: Any, kwargs: Any) -> str:
    return f"{family}[args={args}, kwargs={kwargs}]"


def _resolve_default(param: Any, single_lookup: bool, family: str, name: str, args: Any, kwargs: Any) -> Any:
    """Value of a parameter not given to the constructor: command line, config, default."""
    try:
        if single_lookup:
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
    return param.normalize(value) if single_lookup else param.task_value(family, name)


def _warn_unconsumed_config(cls: type, family: str, consumed: dict[str, Any]) -> None:
    """Warn once per class and key about config keys of section ``[family]`` that are not params."""
    config = configuration.get_config()
    if not config.has_section(family):
        return
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


def _param_values(
    cls: type,
    family: str,
    params: list[tuple[str, Any]],
    positional: list[tuple[str, Any]],
    by_name: dict[str, Any],
    single_lookups: dict[str, bool],
    args: Any,
    kwargs: dict[str, Any],
) -> list[tuple[str, Any]]:
    """The ``get_param_values`` algorithm over precomputed views of ``params``."""
    result: dict[str, Any] = {}
    for i, arg in enumerate(args):
        if i >= len(positional):
            raise parameter.UnknownParameterException(
                f"{_parameter_description(family, args, kwargs)}: takes at most {len(positional)} parameters "
                f"({len(args)} given)"
            )
        name, param = positional[i]
        result[name] = param.normalize(arg)
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
    if len(result) < len(params):
        for name, param in params:
            if name not in result:
                result[name] = _resolve_default(param, single_lookups[name], family, name, args, kwargs)
    _warn_unconsumed_config(cls, family, result)
    return [(name, tuple(value) if isinstance(value := result[name], (list, set)) else value) for name, _ in params]


class _ClassInfo:
    """Per-class introspection results, cached until a parameter or hook of the class (or a base) changes."""

    __slots__ = (
        "family",
        "params",
        "by_name",
        "positional",
        "single_lookups",
        "custom_values",
        "plain_init",
        "plain_hooks",
    )

    def __init__(self, cls: type) -> None:
        self.family = cls.get_task_family()
        self.custom_values = _overrides(cls, "get_params") or _overrides(cls, "get_param_values")
        self.params = cls.get_params() if _overrides(cls, "get_params") else _scan_params(cls)
        self.by_name = dict(self.params)
        self.positional = [(name, p) for name, p in self.params if p.positional]
        self.single_lookups = {name: _single_lookup(p) for name, p in self.params}
        # Without a custom __init__/__new__ the values resolved for the cache key are reused.
        self.plain_init = cls.__init__ is _TASK_INIT and cls.__new__ is object.__new__
        self.plain_hooks = not any(
            _overrides(cls, name) for name in ("_warn_on_wrong_param_types", "to_str_params", "get_task_family")
        )
        if "_unconsumed_params" not in cls.__dict__:  # per class: Luigi shares the first ancestor's set
            type.__setattr__(cls, "_unconsumed_params", set())

    def param_values(self, cls: type, args: Any, kwargs: dict[str, Any]) -> list[tuple[str, Any]]:
        return _param_values(
            cls, self.family, self.params, self.positional, self.by_name, self.single_lookups, args, kwargs
        )

    def construct(self, cls: type, values: list[tuple[str, Any]], args: Any, kwargs: dict[str, Any]) -> Task:
        """A new instance; ``__init__`` is skipped in favour of the already resolved values if possible."""
        if self.plain_init:
            instance = object.__new__(cls)  # still refuses abstract classes
            instance._Task__set_values(values)
            return instance
        return type.__call__(cls, *args, **kwargs)


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
    version = getattr(table, "version", None)
    cached = _dispatch_cache.get(task_class)
    if version is not None and cached is not None and cached[0] is table and cached[1] == version:
        return cached[2]
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
        return self.__class__.task_family

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
        return [name for name, p in cls.get_params() if p._is_batchable()]

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
            return info.param_values(cls, args, kwargs)
        by_name = dict(params)
        positional = [(name, p) for name, p in params if p.positional]
        single_lookups = {name: _single_lookup(p) for name, p in params}
        return _param_values(cls, cls.get_task_family(), params, positional, by_name, single_lookups, args, kwargs)

    # --------------------------------------------------------------------------- construction

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        params = self.get_params()
        values = self.get_param_values(params, args, kwargs)
        self.__set_values(values)

    def __set_values(self, values: list[tuple[str, Any]]) -> None:
        """Steps of ``__init__`` after the parameter values are known."""
        for name, value in values:
            setattr(self, name, value)
        self.param_kwargs = dict(values)
        info = self._class_info()
        if info.plain_hooks:  # same as the general branch, in one pass over the params
            params = info.by_name
            public = ParameterVisibility.PUBLIC
            id_params = {}
            for name, value in values:
                param = params[name]
                param._warn_on_wrong_param_type(name, value)
                if param.significant and param.visibility == public:
                    id_params[name] = param.serialize(value)
            self.task_id = task_id_str(info.family, id_params)
        else:
            self._warn_on_wrong_param_types()
            self.task_id = task_id_str(
                self.get_task_family(), self.to_str_params(only_significant=True, only_public=True)
            )
        self.__hash = hash(self.task_id)
        self.set_tracking_url = None
        self.set_status_message = None
        self.set_progress_percentage = None

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
        params = self._class_info().by_name
        private = ParameterVisibility.PRIVATE
        public = ParameterVisibility.PUBLIC
        params_str = {}
        for name, value in self.param_kwargs.items():
            param = params.get(name)
            if param is None:
                continue
            visibility = param.visibility
            if (
                (not only_significant or param.significant)
                and (not only_public or visibility == public)
                and visibility != private
            ):
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
            elif hasattr(self, name):
                new_kwargs[name] = getattr(self, name)
        return cls(**new_kwargs)

    # ------------------------------------------------------------------------------- identity

    def __hash__(self) -> int:
        return self.__hash

    def __eq__(self, other: object) -> bool:
        return self.__class__ == other.__class__ and self.task_id == other.task_id

    def __repr__(self) -> str:
        """``Family(p1=v1, p2=v2)`` over the significant params, in declaration order."""
        params = self._class_info().params
        values = self.param_kwargs
        if any(name not in values for name, _ in params):  # params attached after construction
            values = dict(self.get_param_values(params, [], self.param_kwargs))
        shown = ", ".join(f"{name}={p.serialize(values[name])}" for name, p in params if p.significant)
        return f"{self.get_task_family()}({shown})"

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


def flatten(struct: Any) -> list[Any]:
    """All leaves of nested dicts (values), lists, tuples, sets and iterables; strings are leaves."""
    if struct is None:
        return []
    if isinstance(type(struct), Register):  # a task (cheaper than the ABC isinstance check)
        return [struct]
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
