"""``getpaths``, ``flatten``, ``flatten_output`` and ``_task_wraps``."""

from __future__ import annotations

import collections
import functools
import pickle

import pytest

import luigi
from luigi.task import _task_wraps, flatten, flatten_output, getpaths


class Out(luigi.Task):
    i = luigi.IntParameter()

    def output(self):
        return luigi.LocalTarget(f"out-{self.i}")


class NoOut(luigi.Task):
    """A task without outputs that requires the tasks named by ``reqs``."""

    name = luigi.Parameter()
    reqs = luigi.TupleParameter(default=())

    def requires(self):
        return [NoOut(n) if isinstance(n, str) else Out(n) for n in self.reqs]


def paths_of(struct):
    """Replace LocalTargets by their paths, keeping the structure, for comparisons."""
    if isinstance(struct, luigi.LocalTarget):
        return struct.path
    if isinstance(struct, dict):
        return type(struct)((k, paths_of(v)) for k, v in struct.items())
    return type(struct)(paths_of(v) for v in struct)


def test_getpaths_preserves_structure():
    assert paths_of(getpaths({"a": [Out(1), (Out(2),)]})) == {"a": ["out-1", ("out-2",)]}
    assert isinstance(getpaths((Out(1),)), tuple)
    assert [t.path for t in getpaths(x for x in [Out(3)])] == ["out-3"]
    assert getpaths(Out(4)).path == "out-4"


def test_getpaths_keeps_namedtuples_and_defaultdicts():
    Pair = collections.namedtuple("Pair", "left right")
    result = getpaths(Pair(Out(1), Out(2)))
    assert isinstance(result, Pair) and result.right.path == "out-2"

    nested = collections.defaultdict(list, {"k": Out(5)})
    mapped = getpaths(nested)
    assert isinstance(mapped, collections.defaultdict) and mapped.default_factory is list
    assert mapped["k"].path == "out-5"

    ordered = getpaths(collections.OrderedDict([("b", Out(1)), ("a", Out(2))]))
    assert isinstance(ordered, collections.OrderedDict) and list(ordered) == ["b", "a"]


@pytest.mark.parametrize("value", [None, 5, "a string", b"bytes"])
def test_getpaths_rejects_non_structures(value):
    with pytest.raises(Exception) as info:
        getpaths(value)
    assert type(info.value) is Exception
    assert str(info.value) == f"Cannot map {value} to Task/dict/list"


def test_flatten():
    assert flatten({"a": "foo", "b": "bar"}) == ["foo", "bar"]
    assert flatten(["foo", ["bar", "troll"]]) == ["foo", "bar", "troll"]
    assert flatten("foo") == ["foo"]
    assert flatten(42) == [42]
    assert flatten(None) == []
    assert flatten((1, (2, {3}))) == [1, 2, 3]
    assert flatten(x for x in [1, [2]]) == [1, 2]
    assert flatten([Out(1), {"k": (Out(2), None)}]) == [Out(1), Out(2)]
    assert flatten(b"ab") == [b"ab"]  # Luigi would explode bytes into ints
    assert flatten([{}, [], ()]) == []


def test_flatten_output_walks_breadth_first_to_tasks_with_outputs():
    root = NoOut("root", ("left", 1))
    assert [t.path for t in flatten_output(root)] == ["out-1"]
    assert [t.path for t in flatten_output(Out(7))] == ["out-7"]

    class Multi(luigi.WrapperTask):
        def requires(self):
            return [Out(2), NoOut("mid", (3, 2))]

    assert [t.path for t in flatten_output(Multi())] == ["out-2", "out-3"]


def test_flatten_output_handles_diamonds_and_cycles_quickly():
    class Layer(luigi.Task):
        """Two output-less requirements per level, both requiring the same next level."""

        depth = luigi.IntParameter()
        side = luigi.IntParameter(default=0)

        def requires(self):
            if self.depth == 0:
                return [Out(0)]
            return [Layer(self.depth - 1, 0), Layer(self.depth - 1, 1)]

    assert [t.path for t in flatten_output(Layer(60))] == ["out-0"]  # 2**60 paths without a visited set

    class Cycle(luigi.Task):
        n = luigi.IntParameter()

        def requires(self):
            return Cycle((self.n + 1) % 3)

    assert flatten_output(Cycle(0)) == []


def test_task_wraps_copies_identity_and_keeps_pickling():
    luigi.namespace("wrapped_ns")

    class Original(luigi.Task):
        """Original doc."""

    luigi.namespace()

    @_task_wraps(Original)
    class Wrapper(Original):
        pass

    assert (Wrapper.__name__, Wrapper.__qualname__, Wrapper.__module__, Wrapper.__doc__) == (
        "Original",
        Original.__qualname__,
        __name__,
        "Original doc.",
    )
    assert Wrapper.__wrapped__ is Original
    assert Wrapper._namespace_at_class_time == "wrapped_ns"
    assert Wrapper.task_family == "wrapped_ns.Original"
    assert "__wrapped__" not in Original.__dict__
    assert isinstance(_task_wraps(Original), functools.partial)


class Pickled(luigi.Task):
    pass


PickledOriginal = Pickled


@_task_wraps(Pickled)
class Pickled(Pickled):  # noqa: F811 (how the util decorators are used: the wrapper takes the name)
    pass


def test_wrapper_subclass_replaces_original_in_registry_and_pickles_by_name():
    assert Pickled is not PickledOriginal
    assert luigi.task_register.Register.get_task_cls("Pickled") is Pickled
    assert type(pickle.loads(pickle.dumps(Pickled()))) is Pickled
