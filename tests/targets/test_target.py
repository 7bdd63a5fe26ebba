"""luigi.target: Target, exceptions, FileSystem defaults, FileSystemTarget, AtomicLocalFile."""

from __future__ import annotations

import gc
import logging
import os
import pathlib
import random
import re
import tempfile
from unittest import mock

import pytest

from luigi.target import (
    AtomicLocalFile,
    DestinationExists,
    FileAlreadyExists,
    FileSystem,
    FileSystemException,
    FileSystemTarget,
    MissingParentDirectory,
    NotADirectory,
    Target,
)


class DictFS(FileSystem):
    """Minimal file system over a dict: only the mandatory methods plus move."""

    def __init__(self):
        self.files = {}

    def exists(self, path):
        return path in self.files

    def remove(self, path, recursive=True, skip_trash=True):
        del self.files[path]

    def move(self, path, dest):
        self.files[dest] = self.files.pop(path)


class DictTarget(FileSystemTarget):
    fs = None

    def __init__(self, path, fs):
        super().__init__(path)
        self.fs = fs

    def open(self, mode):
        raise NotImplementedError


class LocalAtomic(AtomicLocalFile):
    def move_to_final_destination(self):
        os.replace(self.tmp_path, self.path)


# --- Target and exceptions --------------------------------------------------------------------


def test_target_requires_exists():
    class NoExists(Target):
        pass

    with pytest.raises(TypeError):
        NoExists()

    class Always(Target):
        def exists(self):
            return True

    t = Always()
    assert t.exists() is True
    assert t != Always()  # identity semantics
    assert "Always object at" in repr(t)


def test_exception_hierarchy():
    assert issubclass(FileSystemException, Exception)
    for cls in (FileAlreadyExists, MissingParentDirectory, NotADirectory):
        assert issubclass(cls, FileSystemException)
        assert str(cls()) == ""
    # the unified "Destination exists" error satisfies both historical except clauses
    err = DestinationExists("Destination exists: x")
    assert isinstance(err, FileAlreadyExists) and isinstance(err, RuntimeError)


# --- FileSystem defaults ----------------------------------------------------------------------


def test_filesystem_is_abstract():
    class OnlyExists(FileSystem):
        def exists(self, path):
            return False

    with pytest.raises(TypeError):
        OnlyExists()


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda fs: fs.mkdir("p"), "mkdir"),
        (lambda fs: fs.isdir("p"), "isdir"),
        (lambda fs: fs.listdir("p"), "listdir"),
        (lambda fs: FileSystem.move(fs, "p", "q"), "move"),
        (lambda fs: fs.copy("p", "q"), "copy"),
    ],
)
def test_filesystem_default_methods_not_implemented(call, name):
    with pytest.raises(NotImplementedError) as info:
        call(DictFS())
    assert str(info.value) == f"{name}() not implemented on DictFS"


def test_filesystem_rename_aliases_move():
    fs = DictFS()
    fs.files["a"] = 1
    fs.rename("a", "b")
    assert fs.files == {"b": 1}


def test_filesystem_rename_dont_move_warns_and_refuses_existing():
    fs = DictFS()
    fs.files.update(a=1, b=2)
    with pytest.warns(UserWarning, match=r"^File system DictFS client doesn't support atomic mv\.$"):
        with pytest.raises(FileAlreadyExists):
            fs.rename_dont_move("a", "b")
    assert fs.files == {"a": 1, "b": 2}
    del fs.files["b"]
    with pytest.warns(UserWarning):
        fs.rename_dont_move("a", "b")
    assert fs.files == {"b": 1}


# --- FileSystemTarget -------------------------------------------------------------------------


def test_filesystem_target_path_and_str():
    fs = DictFS()
    t = DictTarget(pathlib.Path("x") / "y.txt", fs)
    assert t.path == os.path.join("x", "y.txt") and isinstance(t.path, str)
    assert str(t) == t.path
    assert not t.exists()
    fs.files[t.path] = b""
    assert t.exists()
    t.remove()
    assert fs.files == {}


def test_filesystem_target_abstract_members():
    class NoOpen(FileSystemTarget):
        fs = DictFS()

    with pytest.raises(TypeError):
        NoOpen("p")

    class NoFs(FileSystemTarget):
        def open(self, mode):
            return None

    with pytest.raises(TypeError):
        NoFs("p")


def test_wildcard_warning_exact_text_once_per_target(caplog):
    fs = DictFS()
    t = DictTarget("data/part-*", fs)
    with caplog.at_level(logging.WARNING, logger="luigi-interface"):
        assert not t.exists()
        assert not t.exists()
    messages = [r.getMessage() for r in caplog.records if r.name == "luigi-interface"]
    assert messages == [
        "Using wildcards in path data/part-* might lead to processing of an incomplete dataset; "
        "override exists() to suppress the warning."
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="luigi-interface"):
        for path in ("a?", "a[1]", "a{b}"):
            DictTarget(path, fs).exists()
        DictTarget("plain/path", fs).exists()
    assert len(caplog.records) == 3


def test_touchz_and_trailing_slash():
    opened = []

    class Recording(DictTarget):
        def open(self, mode):
            opened.append(mode)
            return mock.MagicMock()

    t = Recording("d/", DictFS())
    t._touchz()
    assert opened == ["w"]
    assert t._trailing_slash() == "/"
    assert DictTarget("d\\", DictFS())._trailing_slash() == "\\"
    assert DictTarget("d", DictFS())._trailing_slash() == ""
    with pytest.raises(IndexError):
        DictTarget("", DictFS())._trailing_slash()


def test_temporary_path_name_and_exact_calls(monkeypatch):
    monkeypatch.setattr(random, "randrange", lambda a, b: 123456789)
    fs = mock.MagicMock()
    t = DictTarget("out/data.csv", fs)
    with t.temporary_path() as tmp:
        assert tmp == "out/data.csv-luigi-tmp-0123456789"
        assert fs.method_calls == [mock.call.mkdir("out", parents=True, raise_if_exists=False)]
    assert fs.method_calls[-1] == mock.call.rename_dont_move("out/data.csv-luigi-tmp-0123456789", "out/data.csv")


def test_temporary_path_directory_and_no_parent(monkeypatch):
    monkeypatch.setattr(random, "randrange", lambda a, b: 42)
    fs = mock.MagicMock()
    with DictTarget("out/dir/", fs).temporary_path() as tmp:
        assert tmp == "out/dir-luigi-tmp-0000000042/"
    fs.mkdir.assert_called_once_with("out", parents=True, raise_if_exists=False)
    fs = mock.MagicMock()
    with DictTarget("top.txt", fs).temporary_path() as tmp:
        assert re.fullmatch(r"top\.txt-luigi-tmp-\d{10}", tmp)
    fs.mkdir.assert_not_called()


def test_temporary_path_failure_propagates_without_commit_and_cleans_up():
    fs = DictFS()
    t = DictTarget("result", fs)
    with pytest.raises(ZeroDivisionError):
        with t.temporary_path() as tmp:
            fs.files[tmp] = b"partial"
            raise ZeroDivisionError
    assert fs.files == {}  # not committed, temp removed


def test_temporary_path_commit_error_propagates_and_cleans_up():
    fs = DictFS()
    fs.files["result"] = b"old"
    t = DictTarget("result", fs)
    with pytest.warns(UserWarning), pytest.raises(FileAlreadyExists):
        with t.temporary_path() as tmp:
            fs.files[tmp] = b"new"
    assert fs.files == {"result": b"old"}


def test_temporary_path_cleanup_never_masks_the_error():
    fs = mock.MagicMock()
    fs.remove.side_effect = OSError("cannot remove")
    with pytest.raises(KeyError):
        with DictTarget("r", fs).temporary_path():
            raise KeyError("original")


# --- AtomicLocalFile --------------------------------------------------------------------------


def test_atomic_local_file_default_tmp_path_and_publish(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    final = tmp_path / "final.bin"
    f = LocalAtomic(str(final))
    assert isinstance(f, __import__("io").BufferedWriter)
    assert re.fullmatch(re.escape(str(tmp_path)) + r"/luigi-s3-tmp-\d{9,10}", f.tmp_path)
    assert f.name == f.tmp_path and f.path == str(final) and f.mode == "wb"
    assert os.path.exists(f.tmp_path)  # created immediately
    with pytest.raises(TypeError):
        f.write("text")
    f.write(b"payload")
    assert not final.exists()
    f.close()
    assert final.read_bytes() == b"payload"
    assert not os.path.exists(f.tmp_path)


def test_atomic_local_file_move_hook_is_abstract(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    f = AtomicLocalFile(str(tmp_path / "x"))
    with pytest.raises(NotImplementedError):
        f.close()


def test_atomic_local_file_close_is_idempotent(tmp_path):
    published = []

    class Counting(LocalAtomic):
        def generate_tmp_path(self, path):
            return path + ".tmp"

        def move_to_final_destination(self):
            published.append(self.path)
            super().move_to_final_destination()

    final = tmp_path / "f"
    with Counting(str(final)) as f:
        f.write(b"x")
        f.close()  # Luigi: the block's implicit second close raised FileNotFoundError
    f.close()
    assert published == [str(final)]
    assert final.read_bytes() == b"x"


def test_atomic_local_file_exception_discards_immediately(tmp_path):
    final = tmp_path / "f"
    with pytest.raises(ValueError):
        with LocalAtomic(str(final)) as f:
            f.write(b"partial")
            raise ValueError
    assert f.closed
    assert not os.path.exists(f.tmp_path)
    assert not final.exists()


def test_atomic_local_file_unclosed_is_discarded_at_gc(tmp_path):
    final = tmp_path / "f"
    f = LocalAtomic(str(final))
    f.write(b"never published")
    tmp = f.tmp_path
    del f
    gc.collect()
    assert not os.path.exists(tmp)
    assert not final.exists()


def test_atomic_local_file_does_not_follow_planted_symlink(tmp_path, monkeypatch):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    names = iter(["luigi-s3-tmp-000000001", "luigi-s3-tmp-000000002"])

    class Planted(LocalAtomic):
        def generate_tmp_path(self, path):
            return str(tmp_path / next(names))

    os.symlink(victim, tmp_path / "luigi-s3-tmp-000000001")
    f = Planted(str(tmp_path / "out"))
    assert f.tmp_path.endswith("000000002")
    f.write(b"data")
    f.close()
    assert victim.read_bytes() == b"precious"
    assert (tmp_path / "out").read_bytes() == b"data"


def test_atomic_local_file_deterministic_hook_replaces_stale_leftover(tmp_path):
    class Fixed(LocalAtomic):
        def generate_tmp_path(self, path):
            return path + ".partial"

    stale = tmp_path / "out.partial"
    stale.write_bytes(b"stale data from a crashed writer")
    f = Fixed(str(tmp_path / "out"))
    f.write(b"fresh")
    f.close()
    assert (tmp_path / "out").read_bytes() == b"fresh"
    assert not stale.exists()


def test_atomic_local_file_subclass_state_before_super_init(tmp_path):
    class WithState(LocalAtomic):
        def __init__(self, path, suffix):
            self.suffix = suffix
            super().__init__(path)

        def generate_tmp_path(self, path):
            assert not hasattr(self, "path")  # called before path is set
            return path + self.suffix

    f = WithState(str(tmp_path / "o"), ".tmp-x")
    assert f.tmp_path == str(tmp_path / "o.tmp-x")
    f.close()
    assert (tmp_path / "o").read_bytes() == b""
