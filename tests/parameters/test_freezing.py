"""luigi.freezing: the immutable containers behind Dict/List/Tuple parameter values."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import pytest

import luigi
from luigi.freezing import FrozenOrderedDict, recursively_freeze, recursively_unfreeze


def test_frozen_ordered_dict_keeps_order_and_reads_like_a_mapping():
    d = FrozenOrderedDict([("b", 1), ("a", 2)])
    assert list(d) == ["b", "a"]
    assert list(d.items()) == [("b", 1), ("a", 2)]
    assert d["a"] == 2 and d.get("zz", 5) == 5 and "b" in d and len(d) == 2
    assert repr(d) == "{'b': 1, 'a': 2}"
    assert d.get_wrapped() == OrderedDict([("b", 1), ("a", 2)])
    assert isinstance(d.get_wrapped(), OrderedDict)


def test_frozen_ordered_dict_equality_and_hash_ignore_order():
    a = FrozenOrderedDict([("b", 1), ("a", 2)])
    b = FrozenOrderedDict([("a", 2), ("b", 1)])
    assert a == b and a == {"a": 2, "b": 1} and {"b": 1, "a": 2} == a
    assert hash(a) == hash(b)
    assert hash(FrozenOrderedDict()) == 0
    assert hash(FrozenOrderedDict(x=1)) == hash(("x", 1))
    assert a != [("b", 1), ("a", 2)]


def test_frozen_ordered_dict_refuses_mutation_and_unhashable_values():
    d = FrozenOrderedDict(a=1)
    with pytest.raises(TypeError, match="does not support item assignment"):
        d["a"] = 2
    with pytest.raises(TypeError):
        hash(FrozenOrderedDict(a=[1]))


def test_frozen_ordered_dict_pickles():
    d = FrozenOrderedDict([("b", (1, 2)), ("a", FrozenOrderedDict(x=1))])
    copy = pickle.loads(pickle.dumps(d))
    assert copy == d and list(copy) == ["b", "a"] and hash(copy) == hash(d)
    assert set(vars(copy)) == {"_FrozenOrderedDict__dict", "_FrozenOrderedDict__hash"}


def test_pickled_hash_is_recomputed_in_another_process(tmp_path):
    """A cached hash of str keys is only valid in the process that computed it."""
    d = FrozenOrderedDict(key="value")
    hash(d)
    (tmp_path / "d.pickle").write_bytes(pickle.dumps(d))
    script = (
        "import pickle, sys; from luigi.freezing import FrozenOrderedDict; "
        "d = pickle.loads(open(sys.argv[1], 'rb').read()); "
        "print(hash(d) == hash(FrozenOrderedDict(key='value')))"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345", PYTHONPATH=str(Path(luigi.__file__).parent.parent))
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "d.pickle")], env=env, capture_output=True, text=True
    )
    assert out.stdout.strip() == "True", out.stderr


def test_recursively_freeze_and_unfreeze():
    frozen = recursively_freeze({"a": [1, {"b": [2, 3]}], "c": (4,), "s": {5}})
    assert isinstance(frozen, FrozenOrderedDict)
    assert frozen["a"] == (1, FrozenOrderedDict(b=(2, 3)))
    assert frozen["c"] == (4,) and frozen["s"] == {5}  # sets are left alone
    hash(recursively_freeze({"a": [1, {"b": [2]}]}))
    thawed = recursively_unfreeze(frozen)
    assert thawed == {"a": [1, {"b": [2, 3]}], "c": [4], "s": {5}}
    assert type(thawed) is dict and type(thawed["a"][1]) is dict
    assert recursively_freeze("abc") == "abc" and recursively_unfreeze(7) == 7
