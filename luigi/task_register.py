"""The ``Register`` metaclass: task class registry, name lookup, namespaces and the instance cache.

Every task class is created through ``Register``. It records the namespace in force when the class
was created, keeps every class in ``Register._reg`` (creation order) and resolves task family names
to classes. Calling a task class goes through ``Register.__call__``, which returns the cached
instance for equal parameter values.

Unlike Luigi, lookups use an index that is updated incrementally as classes are created, and the
per-class parameter introspection is cached (see ``luigi.task._ClassInfo``); both are invalidated
when a class attribute that shapes families or parameters is reassigned.
"""

from __future__ import annotations

import abc
import logging
import sys
from collections.abc import Iterator
from typing import Any

logger = logging.getLogger("luigi-interface")


class TaskClassException(Exception):
    """Base class of errors about resolving task classes by name."""


class TaskClassNotFoundException(TaskClassException):
    """No visible task class has the requested family."""


class TaskClassAmbigiousException(TaskClassException):
    """Several unrelated task classes share the requested family (spelling is Luigi's API)."""


TaskClassAmbiguousException = TaskClassAmbigiousException

# Class attributes whose reassignment can change a class's task family (and so the registry).
_FAMILY_ATTRIBUTES = frozenset(
    {
        "task_namespace",
        "_namespace_at_class_time",
        "_visible_in_registry",
        "get_task_family",
        "get_task_namespace",
        "__name__",
        "__module__",
    }
)
# Class attributes whose reassignment changes how instances are built (besides Parameter values).
_CONSTRUCTION_ATTRIBUTES = _FAMILY_ATTRIBUTES | frozenset(
    {"get_params", "get_param_values", "__init__", "__new__", "_warn_on_wrong_param_types", "to_str_params"}
)


def _is_parameter(value: Any) -> bool:
    """True if ``value`` is a ``luigi.parameter.Parameter`` (without importing that module eagerly)."""
    module = sys.modules.get("luigi.parameter")
    parameter_class = getattr(module, "Parameter", None)
    return parameter_class is None or isinstance(value, parameter_class)


def _raw_class_attribute(cls: type, name: str) -> Any:
    """The attribute ``name`` as stored in the nearest class of the MRO, without invoking descriptors."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


# Per-class introspection results (``luigi.task._ClassInfo``) and parameter scans, dropped for a
# class and its subclasses when one of their parameters or construction hooks is reassigned.
_class_infos: dict[type, Any] = {}
_param_scans: dict[type, list[tuple[str, Any]]] = {}


def _forget_all_class_infos() -> None:
    """Drop the cached introspection of every class (a Parameter's flags changed; it may be shared)."""
    _class_infos.clear()


def _forget_class_infos(cls: type) -> None:
    """Drop cached introspection of ``cls`` and every subclass (they inherit its attributes)."""
    stack = [cls]
    while stack:
        klass = stack.pop()
        _class_infos.pop(klass, None)
        _param_scans.pop(klass, None)
        stack.extend(type.__subclasses__(klass))


class _RegistrySnapshot(dict):
    """What ``_get_reg()`` returns: the family map plus the full class list it was built from.

    ``_set_reg`` restores the full list from an unmodified snapshot, so classes of ambiguous
    families and invisible classes survive a snapshot/restore round trip (Luigi drops them).
    """

    def __init__(self, mapping: dict[str, Any], classes: list[type]) -> None:
        super().__init__(mapping)
        self.classes = classes
        self.original = dict(mapping)


class Register(abc.ABCMeta):
    """Metaclass of ``luigi.Task``: registers classes and caches instances by parameter values."""

    __instance_cache: dict[Any, Any] | None = {}
    _default_namespace_dict: dict[str, str] = {}
    _reg: list[type] = []
    AMBIGUOUS_CLASS = object()

    # Bumped when something that shapes a family is reassigned; the name index compares against it.
    _family_generation = 0
    # (family generation, list object, number of classes indexed, family -> class, sorted names)
    _index: tuple[int, list[type] | None, int, dict[str, Any], list[str] | None] = (-1, None, 0, {}, None)

    def __new__(metacls, classname: str, bases: tuple[type, ...], classdict: dict[str, Any], **kwargs: Any):
        cls = super().__new__(metacls, classname, bases, classdict, **kwargs)
        type.__setattr__(cls, "_namespace_at_class_time", metacls._get_namespace(cls.__module__))
        metacls._reg.append(cls)
        return cls

    def __setattr__(cls, name: str, value: Any) -> None:
        cls._note_attribute_change(name, value)
        super().__setattr__(name, value)

    def __delattr__(cls, name: str) -> None:
        cls._note_attribute_change(name, None)
        super().__delattr__(name)

    def _note_attribute_change(cls, name: str, value: Any) -> None:
        """Invalidate cached introspection if ``name`` affects parameters or families."""
        if name in _FAMILY_ATTRIBUTES:
            Register._family_generation += 1
            _forget_class_infos(cls)
        elif name in _CONSTRUCTION_ATTRIBUTES or _is_parameter(value) or _is_parameter(_raw_class_attribute(cls, name)):
            _forget_class_infos(cls)

    def __call__(cls, *args: Any, **kwargs: Any):
        """Return the cached instance for these parameter values, constructing it if needed."""
        info = _class_infos.get(cls) or cls._class_info()
        if info.custom_values:
            values = tuple(cls.get_param_values(cls.get_params(), args, kwargs))
        else:
            values = info.values(cls, info.family, args, kwargs)
        cache = Register.__instance_cache
        if cache is not None:
            key = (cls, values)
            try:
                instance = cache.get(key)
            except TypeError:
                logger.debug("Not all parameter values are hashable so instance isn't coming from the cache")
                cache = None
            else:
                if instance is not None:
                    return instance
        if info.plain_init:  # __init__ would only resolve the same values again
            instance = object.__new__(cls)  # still refuses abstract classes
            info.init_instance(instance, values)
        else:
            instance = type.__call__(cls, *args, **kwargs)
        if cache is None:
            return instance
        # setdefault: two threads racing on one key still end up sharing a single instance.
        return cache.setdefault(key, instance)

    @classmethod
    def clear_instance_cache(cls) -> None:
        """Forget all cached instances (and re-enable a disabled cache)."""
        Register.__instance_cache = {}

    @classmethod
    def disable_instance_cache(cls) -> None:
        """Make every call construct a new instance."""
        Register.__instance_cache = None

    @property
    def task_family(cls) -> str:
        """The namespace-qualified family name of the class (same as ``get_task_family()``)."""
        return cls.get_task_family()

    @classmethod
    def _get_namespace(mcs, module_name: str) -> str:
        """The namespace set by ``luigi.namespace()`` for the most specific scope of ``module_name``."""
        for parent in mcs._module_parents(module_name):
            entry = mcs._default_namespace_dict.get(parent)
            if entry:
                return entry
        return ""

    @staticmethod
    def _module_parents(module_name: str) -> Iterator[str]:
        """Yield ``a.b.c``, ``a.b``, ``a`` and finally ``""`` for module ``a.b.c``."""
        if module_name == "":
            yield ""
            return
        parts = module_name.split(".")
        for i in range(len(parts), 0, -1):
            yield ".".join(parts[:i])
        yield ""

    # ----------------------------------------------------------------------------- name lookup

    @classmethod
    def _family_index(mcs) -> dict[str, Any]:
        """The live family -> class map, updated incrementally as classes are created.

        Rebuilt from scratch only when ``_reg`` is replaced or shrinks, or a family-shaping class
        attribute changed; otherwise only classes created since the last call are folded in.
        """
        generation, reg_list, indexed, index, names = Register._index
        reg = Register._reg
        if generation != Register._family_generation or reg_list is not reg or indexed > len(reg):
            index, indexed = {}, 0
        if indexed == len(reg) and reg_list is reg and generation == Register._family_generation:
            return index
        for klass in reg[indexed:]:
            mcs._index_class(index, klass)
        Register._index = (Register._family_generation, reg, len(reg), index, None)
        return index

    @classmethod
    def _index_class(mcs, index: dict[str, Any], klass: type) -> None:
        """Fold one class into the family index: subclasses replace bases, unrelated clashes are ambiguous."""
        if not klass._visible_in_registry:
            return
        name = klass.get_task_family()
        current = index.get(name)
        if current is not None and (current is mcs.AMBIGUOUS_CLASS or not issubclass(klass, current)):
            index[name] = mcs.AMBIGUOUS_CLASS
        else:
            index[name] = klass

    @classmethod
    def _get_reg(mcs) -> dict[str, Any]:
        """A fresh ``family -> class`` dict (``AMBIGUOUS_CLASS`` for clashing families)."""
        return _RegistrySnapshot(mcs._family_index(), list(Register._reg))

    @classmethod
    def _set_reg(mcs, reg: dict[str, Any]) -> None:
        """Replace the registered classes by those in ``reg`` (as returned by ``_get_reg``)."""
        if isinstance(reg, _RegistrySnapshot) and dict(reg) == reg.original:
            Register._reg = list(reg.classes)
        else:
            Register._reg = [c for c in reg.values() if c is not mcs.AMBIGUOUS_CLASS]

    @classmethod
    def task_names(mcs) -> list[str]:
        """All registered family names, sorted."""
        index = mcs._family_index()
        generation, reg_list, indexed, _, names = Register._index
        if names is None:
            names = sorted(index)
            Register._index = (generation, reg_list, indexed, index, names)
        return list(names)

    @classmethod
    def tasks_str(mcs) -> str:
        """Comma separated family names, for error messages."""
        return ",".join(mcs.task_names())

    @classmethod
    def get_task_cls(mcs, name: str) -> type:
        """The task class registered under family ``name``."""
        task_cls = mcs._family_index().get(name)
        if task_cls is None:
            raise TaskClassNotFoundException(mcs._missing_task_msg(name))
        if task_cls is mcs.AMBIGUOUS_CLASS:
            raise TaskClassAmbigiousException(f"Task {name!r} is ambiguous")
        return task_cls

    @classmethod
    def get_all_params(mcs) -> Iterator[tuple[str, bool, str, Any]]:
        """Yield ``(family, is_without_section, param_name, param)`` for the command-line parser."""
        for task_name, task_cls in list(mcs._family_index().items()):
            if task_cls is mcs.AMBIGUOUS_CLASS:
                continue
            for param_name, param_obj in task_cls.get_params():
                yield task_name, (not task_cls.use_cmdline_section), param_name, param_obj

    @staticmethod
    def _editdistance(a: str, b: str) -> int:
        """Levenshtein distance (unit cost insert/delete/substitute)."""
        previous = list(range(len(b) + 1))
        for i, char_a in enumerate(a, 1):
            current = [i]
            for j, char_b in enumerate(b, 1):
                current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
            previous = current
        return previous[-1]

    @classmethod
    def _missing_task_msg(mcs, task_name: str) -> str:
        """'No task X' plus close matches (distance <= 5) or the full candidate list."""
        candidates = []
        for name in mcs.task_names():
            if abs(len(name) - len(task_name)) > 5:  # the distance is at least the length difference
                continue
            distance = mcs._editdistance(task_name, name)
            if distance <= 5 and distance < len(name):
                candidates.append((distance, name))
        if candidates:
            candidates.sort(key=lambda pair: pair[0])
            suggestions = "\n".join(name for _, name in candidates)
            return f"No task {task_name}. Did you mean:\n{suggestions}"
        return f"No task {task_name}. Candidates are: {mcs.tasks_str()}"


def load_task(module: str | None, task_name: str, params_str: dict[str, Any]) -> Any:
    """Import ``module`` (if given) and build the task ``task_name`` from serialized parameters."""
    if module is not None:
        __import__(module)
    task_cls = Register.get_task_cls(task_name)
    return task_cls.from_str_params(params_str)
