"""luigi.local_target: atomic_file, LocalFileSystem, LocalTarget (real files, real processes)."""

from __future__ import annotations

import errno
import gc
import os
import pathlib
import random
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading

import pytest

import luigi
import luigi.format
from luigi.local_target import LocalFileSystem, LocalTarget, atomic_file
from luigi.target import (
    FileAlreadyExists,
    FileSystemTarget,
    MissingParentDirectory,
    NotADirectory,
)

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(luigi.format.__file__)))


def leftovers(directory: pathlib.Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if "-luigi-tmp-" in p.name)


# --- atomic_file ------------------------------------------------------------------------------


def test_atomic_file_writes_next_to_final_and_replaces(tmp_path):
    final = tmp_path / "out.txt"
    final.write_bytes(b"old")
    f = atomic_file(str(final))
    assert re.fullmatch(re.escape(str(final)) + r"-luigi-tmp-\d{9,10}", f.tmp_path)
    f.write(b"new")
    assert final.read_bytes() == b"old"  # untouched until the commit
    f.close()
    assert final.read_bytes() == b"new"
    assert leftovers(tmp_path) == []


def test_atomic_file_with_block_and_double_close(tmp_path):
    final = tmp_path / "f"
    with atomic_file(str(final)) as f:
        f.write(b"a")
        f.close()
    assert final.read_bytes() == b"a"


# --- LocalFileSystem --------------------------------------------------------------------------


def test_exists_and_isdir(tmp_path):
    fs = LocalFileSystem()
    (tmp_path / "f").write_text("x")
    assert fs.exists(str(tmp_path / "f")) and not fs.isdir(str(tmp_path / "f"))
    assert fs.exists(str(tmp_path)) and fs.isdir(str(tmp_path))
    assert not fs.exists(str(tmp_path / "missing"))


def test_mkdir_variants(tmp_path):
    fs = LocalFileSystem()
    deep = tmp_path / "a" / "b" / "c"
    fs.mkdir(str(deep))
    assert deep.is_dir()
    fs.mkdir(str(deep))  # existing dir: silent
    with pytest.raises(FileAlreadyExists):
        fs.mkdir(str(deep), raise_if_exists=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectory):
        fs.mkdir(str(tmp_path / "file"))
    with pytest.raises(FileAlreadyExists):
        fs.mkdir(str(tmp_path / "file"), raise_if_exists=True)
    with pytest.raises(MissingParentDirectory):
        fs.mkdir(str(tmp_path / "x" / "y"), parents=False)
    fs.mkdir(str(tmp_path / "a" / "d"), parents=False)
    assert (tmp_path / "a" / "d").is_dir()


def test_mkdir_no_parents_relative_and_trailing_slash(tmp_path, monkeypatch):
    # Luigi raised MissingParentDirectory for these although the parent exists
    monkeypatch.chdir(tmp_path)
    fs = LocalFileSystem()
    fs.mkdir("single", parents=False)
    fs.mkdir(str(tmp_path / "slashed") + "/", parents=False)
    assert (tmp_path / "single").is_dir() and (tmp_path / "slashed").is_dir()


def test_listdir_is_recursive_files_only(tmp_path):
    fs = LocalFileSystem()
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "d" / "1").write_text("")
    (tmp_path / "d" / "e" / "2").write_text("")
    listing = fs.listdir(str(tmp_path / "d"))
    assert not isinstance(listing, list)  # a generator
    assert sorted(listing) == [str(tmp_path / "d" / "1"), str(tmp_path / "d" / "e" / "2")]
    assert list(fs.listdir(str(tmp_path / "missing"))) == []
    assert list(fs.listdir(str(tmp_path / "d" / "1"))) == []


def test_remove(tmp_path):
    fs = LocalFileSystem()
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "d" / "e" / "f").write_text("")
    with pytest.raises(OSError):
        fs.remove(str(tmp_path / "d"), recursive=False)
    fs.remove(str(tmp_path / "d"), skip_trash=True)  # skip_trash accepted (Luigi: TypeError)
    assert not (tmp_path / "d").exists()
    with pytest.raises(FileNotFoundError):
        fs.remove(str(tmp_path / "d"))
    (tmp_path / "g").write_text("")
    fs.remove(str(tmp_path / "g"), recursive=False)
    assert not (tmp_path / "g").exists()


def test_remove_symlink_to_directory_removes_only_the_link(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "keep").write_text("k")
    os.symlink(tmp_path / "real", tmp_path / "link")
    LocalFileSystem().remove(str(tmp_path / "link"))
    assert not (tmp_path / "link").exists()
    assert (tmp_path / "real" / "keep").exists()


def test_copy(tmp_path):
    fs = LocalFileSystem()
    src = tmp_path / "src"
    src.write_text("data")
    fs.copy(str(src), str(tmp_path / "new" / "dir" / "dst"))
    assert (tmp_path / "new" / "dir" / "dst").read_text() == "data"
    fs.copy(str(src), str(tmp_path / "new" / "dir" / "dst"))  # overwrite allowed
    with pytest.raises(RuntimeError) as info:
        fs.copy(str(src), str(tmp_path / "new" / "dir" / "dst"), raise_if_exists=True)
    assert str(info.value) == "Destination exists: " + str(tmp_path / "new" / "dir" / "dst")
    assert isinstance(info.value, FileAlreadyExists)
    fs.copy(str(src), str(tmp_path / "fresh"), raise_if_exists=True)
    assert (tmp_path / "fresh").read_text() == "data"
    fs.copy(str(src), str(tmp_path / "new"))  # into an existing directory
    assert (tmp_path / "new" / "src").read_text() == "data"
    with pytest.raises(IsADirectoryError):
        fs.copy(str(tmp_path / "new"), str(tmp_path / "other"))
    fs.copy(str(src), str(tmp_path / "into") + "/")  # trailing slash: the directory is created
    assert (tmp_path / "into" / "src").read_text() == "data"
    assert src.read_text() == "data"
    assert [p for p in tmp_path.iterdir() if p.name.startswith("fresh-")] == []


def test_move_files_and_directories(tmp_path):
    fs = LocalFileSystem()
    src = tmp_path / "src"
    src.write_text("1")
    (tmp_path / "dst").write_text("old")
    fs.move(str(src), str(tmp_path / "dst"))
    assert (tmp_path / "dst").read_text() == "1" and not src.exists()
    fs.move(str(tmp_path / "dst"), str(tmp_path / "sub" / "moved"))  # parent created
    assert (tmp_path / "sub" / "moved").read_text() == "1"
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x").write_text("x")
    fs.rename(str(tmp_path / "d"), str(tmp_path / "e"))
    assert (tmp_path / "e" / "x").read_text() == "x"


def test_move_raise_if_exists(tmp_path):
    fs = LocalFileSystem()
    (tmp_path / "a").write_text("a")
    (tmp_path / "b").write_text("b")
    with pytest.raises(FileAlreadyExists) as info:
        fs.move(str(tmp_path / "a"), str(tmp_path / "b"), raise_if_exists=True)
    assert str(info.value) == "Destination exists: " + str(tmp_path / "b")
    assert (tmp_path / "a").read_text() == "a" and (tmp_path / "b").read_text() == "b"
    fs.move(str(tmp_path / "a"), str(tmp_path / "c"), raise_if_exists=True)
    assert (tmp_path / "c").read_text() == "a" and not (tmp_path / "a").exists()
    # directories: never moved into an existing directory
    (tmp_path / "d1").mkdir()
    (tmp_path / "d1" / "f").write_text("f")
    (tmp_path / "d2").mkdir()
    with pytest.raises(FileAlreadyExists):
        fs.rename_dont_move(str(tmp_path / "d1"), str(tmp_path / "d2"))
    assert (tmp_path / "d1" / "f").exists() and list((tmp_path / "d2").iterdir()) == []
    fs.rename_dont_move(str(tmp_path / "d1"), str(tmp_path / "d3"))
    assert (tmp_path / "d3" / "f").read_text() == "f"


def test_rename_dont_move_is_atomic_under_concurrency(tmp_path):
    fs = LocalFileSystem()
    sources = []
    for i in range(16):
        p = tmp_path / f"src{i}"
        p.write_text(str(i))
        sources.append(p)
    barrier = threading.Barrier(len(sources))
    winners, losers = [], []

    def contend(src):
        barrier.wait()
        try:
            fs.rename_dont_move(str(src), str(tmp_path / "dest"))
            winners.append(src.name)
        except FileAlreadyExists:
            losers.append(src.name)

    threads = [threading.Thread(target=contend, args=(s,)) for s in sources]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1 and len(losers) == 15
    assert (tmp_path / "dest").read_text() == winners[0].removeprefix("src")


def test_move_across_devices_falls_back_to_copy(tmp_path, monkeypatch):
    fs = LocalFileSystem()
    src = tmp_path / "src"
    src.write_text("payload")
    real_replace = os.replace

    def cross_device(a, b):
        if str(a) == str(src):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_replace(a, b)

    monkeypatch.setattr(os, "replace", cross_device)
    monkeypatch.setattr(random, "randint", lambda a, b: 7)
    fs.move(str(src), str(tmp_path / "dst"))
    assert (tmp_path / "dst").read_text() == "payload"
    assert not src.exists()
    assert not (tmp_path / "dst-000000007").exists()
    # directories too (Luigi handled files only)
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "f").write_text("f")
    src = tmp_path / "dir"
    fs.move(str(src), str(tmp_path / "dir2"))
    assert (tmp_path / "dir2" / "f").read_text() == "f" and not src.exists()


def test_rename_dont_move_across_devices(tmp_path, monkeypatch):
    fs = LocalFileSystem()
    (tmp_path / "src").write_text("x")
    real_link = os.link

    def cross_device(a, b, **kw):
        if str(a) == str(tmp_path / "src"):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_link(a, b, **kw)

    monkeypatch.setattr(os, "link", cross_device)
    fs.rename_dont_move(str(tmp_path / "src"), str(tmp_path / "dst"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dst"]
    assert (tmp_path / "dst").read_text() == "x"


def test_move_other_errors_propagate(tmp_path):
    with pytest.raises(FileNotFoundError):
        LocalFileSystem().move(str(tmp_path / "missing"), str(tmp_path / "x"))


# --- LocalTarget: construction and metadata ---------------------------------------------------


def test_local_target_construction(tmp_path):
    t = LocalTarget(pathlib.Path(tmp_path) / "x")
    assert t.path == str(tmp_path / "x") and isinstance(t.path, str)
    assert t.format is luigi.format.get_default_format() is luigi.format.Text
    assert t.is_tmp is False
    assert isinstance(t, FileSystemTarget)
    assert isinstance(LocalTarget.fs, LocalFileSystem) and t.fs is LocalTarget("y").fs
    with pytest.raises(Exception) as info:
        LocalTarget()
    assert type(info.value) is Exception and str(info.value) == "path or is_tmp must be set"
    with pytest.raises(Exception, match="^path or is_tmp must be set$"):
        LocalTarget("")


def test_local_target_is_tmp_path_and_deletion(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    t = LocalTarget(is_tmp=True)
    assert re.fullmatch(re.escape(str(tmp_path)) + r"/luigi-tmp-\d{9}", t.path)
    with t.open("w") as f:
        f.write("temp")
    path = t.path
    assert os.path.exists(path)
    del t
    gc.collect()
    assert not os.path.exists(path)
    d = LocalTarget(str(tmp_path / "tmpdir"), is_tmp=True)
    os.makedirs(os.path.join(d.path, "inner"))
    del d
    gc.collect()
    assert not (tmp_path / "tmpdir").exists()
    keep = LocalTarget(str(tmp_path / "keep"))
    keep._touchz()
    del keep
    gc.collect()
    assert (tmp_path / "keep").exists()


def test_fn_is_deprecated_alias():
    t = LocalTarget("some/file")
    with pytest.warns(DeprecationWarning, match="^Use LocalTarget.path to reference filename$"):
        assert t.fn == "some/file"


def test_str_exists_remove_move_copy(tmp_path):
    t = LocalTarget(str(tmp_path / "a.txt"))
    assert str(t) == t.path and not t.exists()
    t._touchz()
    assert t.exists()
    t.copy(str(tmp_path / "b.txt"))
    with pytest.raises(RuntimeError, match="^Destination exists: "):
        t.copy(str(tmp_path / "b.txt"), raise_if_exists=True)
    t.move(str(tmp_path / "c.txt"))
    assert t.path == str(tmp_path / "a.txt") and not t.exists()
    assert (tmp_path / "c.txt").exists()
    LocalTarget(str(tmp_path / "b.txt")).remove()
    assert not (tmp_path / "b.txt").exists()
    d = LocalTarget(str(tmp_path / "dir"))
    os.makedirs(os.path.join(d.path, "sub"))
    d.move_dir(str(tmp_path / "dir2"))
    assert (tmp_path / "dir2" / "sub").is_dir()
    LocalTarget(str(tmp_path / "dir2")).remove()
    assert not (tmp_path / "dir2").exists()


def test_makedirs(tmp_path):
    LocalTarget(str(tmp_path / "p" / "q" / "file")).makedirs()
    assert (tmp_path / "p" / "q").is_dir()
    LocalTarget(str(tmp_path / "p" / "q" / "file")).makedirs()  # existing: fine
    LocalTarget("bare").makedirs()  # no parent: nothing to do


# --- LocalTarget.open -------------------------------------------------------------------------


def test_text_round_trip_and_newlines(tmp_path):
    t = LocalTarget(str(tmp_path / "d" / "t.txt"))
    with t.open("w") as f:
        f.write("line 1\nline 2\n")
    assert (tmp_path / "d" / "t.txt").read_bytes() == ("line 1" + os.linesep + "line 2" + os.linesep).encode()
    with t.open("r") as f:
        assert list(f) == ["line 1\n", "line 2\n"]
    (tmp_path / "crlf").write_bytes(b"a\r\nb\rc\n")
    assert LocalTarget(str(tmp_path / "crlf")).open("r").read() == "a\nb\nc\n"


def test_open_modes(tmp_path):
    t = LocalTarget(str(tmp_path / "m.txt"))
    with t.open("wb") as f:  # 'b' changes nothing: still the text format
        with pytest.raises(TypeError):
            f.write(b"bytes")
        f.write("text")
    assert t.open("rb").read() == "text"
    assert t.open("rt").read() == "text"  # accepted (Luigi: ValueError)
    assert t.open().read() == "text"
    for bad in ("a", "r+", "x", "rw", "w+"):
        with pytest.raises(Exception) as info:
            t.open(bad)
        assert type(info.value) is Exception
        assert str(info.value) == f"mode must be 'r' or 'w' (got: {bad})"


def test_open_read_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        LocalTarget(str(tmp_path / "missing")).open("r")
    with pytest.raises(IsADirectoryError):
        LocalTarget(str(tmp_path)).open("r")


def test_nop_format_binary_round_trip(tmp_path):
    t = LocalTarget(str(tmp_path / "b.bin"), format=luigi.format.Nop)
    payload = bytes(range(256)) * 100
    with t.open("w") as f:
        assert isinstance(f, atomic_file)
        f.write(payload)
    with t.open("r") as f:
        assert f.read() == payload
    with t.open("r") as f:
        assert b"".join(f) == payload


def test_write_goes_to_temp_until_close(tmp_path):
    t = LocalTarget(str(tmp_path / "a" / "b" / "c.txt"))
    f = t.open("w")
    f.write("partial")
    f.flush()
    assert (tmp_path / "a" / "b").is_dir()  # parent created at open
    assert not os.path.exists(t.path)
    names = leftovers(tmp_path / "a" / "b")
    assert len(names) == 1 and re.fullmatch(r"c\.txt-luigi-tmp-\d{9,10}", names[0])
    f.close()
    assert open(t.path).read() == "partial"
    assert leftovers(tmp_path / "a" / "b") == []


def test_exception_in_with_keeps_previous_content(tmp_path):
    t = LocalTarget(str(tmp_path / "f.txt"))
    with t.open("w") as f:
        f.write("good")
    with pytest.raises(RuntimeError, match="boom"):
        with t.open("w") as f:
            f.write("bad")
            raise RuntimeError("boom")
    assert open(t.path).read() == "good"
    assert leftovers(tmp_path) == []  # discarded immediately, not at garbage collection


def test_unclosed_handle_is_never_published(tmp_path):
    t = LocalTarget(str(tmp_path / "f.txt"))
    f = t.open("w")
    f.write("abandoned")
    del f
    gc.collect()
    assert not t.exists()
    assert leftovers(tmp_path) == []


def test_close_inside_with_is_harmless(tmp_path):
    t = LocalTarget(str(tmp_path / "f.txt"))
    with t.open("w") as f:
        f.write("once")
        f.close()  # Luigi: FileNotFoundError at block exit
    assert open(t.path).read() == "once"


def test_temporary_path_commits_atomically(tmp_path):
    t = LocalTarget(str(tmp_path / "out" / "result.csv"))
    with t.temporary_path() as tmp:
        assert re.fullmatch(re.escape(t.path) + r"-luigi-tmp-\d{10}", tmp)
        assert (tmp_path / "out").is_dir()
        with open(tmp, "w") as f:
            f.write("a,b\n")
        assert not t.exists()
    assert open(t.path).read() == "a,b\n"
    with pytest.raises(FileAlreadyExists, match="^Destination exists: "):
        with t.temporary_path() as tmp:
            with open(tmp, "w") as f:
                f.write("second")
    assert open(t.path).read() == "a,b\n"
    assert leftovers(tmp_path / "out") == []


def test_temporary_path_for_directory(tmp_path):
    t = LocalTarget(str(tmp_path / "dirout") + "/")
    with t.temporary_path() as tmp:
        assert tmp.endswith("/") and "-luigi-tmp-" in tmp
        os.makedirs(tmp)
        open(os.path.join(tmp, "part-0"), "w").close()
    assert (tmp_path / "dirout" / "part-0").exists()


def test_temporary_path_failure_leaves_nothing(tmp_path):
    t = LocalTarget(str(tmp_path / "r.txt"))
    with pytest.raises(ValueError):
        with t.temporary_path() as tmp:
            open(tmp, "w").write("partial")
            raise ValueError
    assert list(tmp_path.iterdir()) == []


def test_failing_format_at_open_leaves_no_temp_file(tmp_path):
    class Broken(luigi.format.Format):
        def pipe_writer(self, output_pipe):
            raise FileNotFoundError("no such program")

    t = LocalTarget(str(tmp_path / "x"), format=Broken())
    with pytest.raises(FileNotFoundError):
        t.open("w")
    assert list(tmp_path.iterdir()) == []


CRASHING_WRITER = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, sys.argv[2])
    from luigi.local_target import LocalTarget
    f = LocalTarget(sys.argv[1]).open("w")
    f.write("new partial content " * 5000)
    f.flush()
    sys.stdout.write(f.buffer.tmp_path + "\\n")
    sys.stdout.flush()
    sys.stdin.read()  # block until killed
    """
)


def test_sigkill_mid_write_never_leaves_partial_file(tmp_path):
    final = tmp_path / "data.txt"
    final.write_text("complete old content")
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASHING_WRITER, str(final), PACKAGE_ROOT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        tmp = proc.stdout.readline().strip()
        assert os.path.getsize(tmp) == len("new partial content ") * 5000  # mid-write, data flushed
        proc.send_signal(signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdin.close()
        proc.stdout.close()
    assert final.read_text() == "complete old content"

    # and with no previous file, the final path simply does not exist
    fresh = tmp_path / "fresh.txt"
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASHING_WRITER, str(fresh), PACKAGE_ROOT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip().startswith(str(fresh) + "-luigi-tmp-")
        proc.kill()
        proc.wait()
    finally:
        proc.stdin.close()
        proc.stdout.close()
    assert not fresh.exists()
    assert not LocalTarget(str(fresh)).exists()


def test_failed_publish_removes_the_temp_file(tmp_path):
    (tmp_path / "occupied").mkdir()
    (tmp_path / "occupied" / "keep").write_text("k")
    f = LocalTarget(str(tmp_path / "occupied")).open("w")
    f.write("data")
    with pytest.raises(OSError):
        f.close()  # a file cannot replace a non-empty directory
    assert leftovers(tmp_path) == []
    assert (tmp_path / "occupied" / "keep").read_text() == "k"
