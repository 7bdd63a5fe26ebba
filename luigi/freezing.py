"""Immutable, hashable containers for parameter values.

Task ids and the instance cache need hashable parameter values, while Dict/List parameters are
naturally built from mutable JSON structures. ``recursively_freeze`` turns such structures into
``FrozenOrderedDict``/``tuple`` trees and ``recursively_unfreeze`` turns them back (e.g. for JSON
schema validation).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["FrozenOrderedDict", "recursively_freeze", "recursively_unfreeze"]


class FrozenOrderedDict(Mapping):
    """A read-only mapping that keeps insertion order and is hashable.

    Equality and hash ignore key order (plain ``Mapping`` semantics), so it compares equal to a
    ``dict`` with the same items; the order only matters for serialization.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.__dict = OrderedDict(*args, **kwargs)
        self.__hash: int | None = None

    def __getitem__(self, key: Any) -> Any:
        return self.__dict[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.__dict)

    def __len__(self) -> int:
        return len(self.__dict)

    def __repr__(self) -> str:
        # Looks like a dict on purpose: this text appears in warnings and error messages.
        return repr(dict(self.__dict))

    def __hash__(self) -> int:
        if self.__hash is None:
            value = 0
            for item in self.__dict.items():
                value ^= hash(item)
            self.__hash = value
        return self.__hash

    def __getstate__(self) -> dict[str, Any]:
        # String hashes differ between processes: never ship the cached hash to another one.
        state = self.__dict__.copy()
        state["_FrozenOrderedDict__hash"] = None
        return state

    def get_wrapped(self) -> OrderedDict:
        """Return the underlying (mutable) ``OrderedDict``; used by the JSON encoder."""
        return self.__dict


def recursively_freeze(value: Any) -> Any:
    """Mappings become ``FrozenOrderedDict``, lists and tuples become tuples, recursively."""
    if isinstance(value, Mapping):
        return FrozenOrderedDict((k, recursively_freeze(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(recursively_freeze(v) for v in value)
    return value


def recursively_unfreeze(value: Any) -> Any:
    """Inverse of ``recursively_freeze``: mappings become ``dict``, lists and tuples become lists."""
    if isinstance(value, Mapping):
        return {k: recursively_unfreeze(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [recursively_unfreeze(v) for v in value]
    return value
