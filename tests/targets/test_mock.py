"""luigi.mock: the shared store (also across forked processes), MockFileSystem, MockTarget."""

from __future__ import annotations

import gzip
import multiprocessing
import os
import pathlib
import threading

import pytest

import luigi
import luigi.format as fmt
import luigi.mock as mock_module
from luigi.mock import MockFileSystem, MockTarget, SharedMockStore
from luigi.target import FileAlreadyExists

FORK = multiprocessing.get_context("fork")


@pytest.fixture(autouse=True)
def fresh_store():
    """Every test starts from an empty store (and leaves the shared default in place)."""
    saved = MockFileSystem._data
    MockFileSystem._data = None
    yield
    MockFileSystem._data = saved


def data():
    return MockFileSystem().get_all_data()


# --- shared store semantics -------------------------------------------------------------------


def test_store_is_shared_between_instances_and_targets():
    assert MockFileSystem._data is None  # created lazily
    store = data()
    assert isinstance(store, SharedMockStore) and MockFileSystem._data is store
    assert MockTarget.fs.get_all_data() is store and MockFileSystem().get_all_data() is store
    store["in.txt"] = b"prepopulated"
    assert MockTarget("in.txt").open("r").read() == "prepopulated"
    with MockTarget("out.txt").open("w") as f:
        f.write("written")
    assert MockFileSystem().get_data("out.txt") == b"written"
    with pytest.raises(KeyError):
        MockFileSystem().get_data("missing")


def test_store_dict_proxy_semantics():
    d = data()
    d["a"] = b"1"
    d["b"] = b"2"
    d["a"] = b"3"  # update keeps insertion position
    assert d.keys() == ["a", "b"] and d.values() == [b"3", b"2"]
    assert d.items() == [("a", b"3"), ("b", b"2")]
    assert list(d) == ["a", "b"] and len(d) == 2 and "a" in d and "z" not in d and 5 not in d
    assert d.get("z") is None and d.get("a") == b"3"
    assert d.setdefault("c", b"c") == b"c" and d.setdefault("c", b"other") == b"c"
    assert d.pop("c") == b"c" and d.pop("c", "dflt") == "dflt"
    with pytest.raises(KeyError):
        d.pop("c")
    d.update({"x": b"x"}, y=b"y")
    assert d.popitem() == ("y", b"y")
    copy = d.copy()
    assert type(copy) is dict and copy == {"a": b"3", "b": b"2", "x": b"x"}
    del d["x"]
    with pytest.raises(KeyError):
        del d["x"]
    with pytest.raises(KeyError):
        d["x"]
    d["obj"] = {"any": ["picklable", 1]}  # non-bytes values survive too
    assert d["obj"] == {"any": ["picklable", 1]}
    d.clear()
    assert len(d) == 0 and d.items() == []
    with pytest.raises(KeyError):
        d.popitem()


def test_reset_starts_a_fresh_store():
    data()["k"] = b"v"
    MockFileSystem._data = None
    assert "k" not in data()


def test_plain_dict_may_replace_the_store():
    MockFileSystem._data = {}
    fs = MockFileSystem()
    with MockTarget("d/a").open("w") as f:
        f.write("a")
    MockFileSystem._data["d/b"] = b"b"
    MockFileSystem._data["dx"] = b"x"
    assert fs.listdir("d") == ["d/a", "d/b"] and fs.isdir("d")
    fs.move("d/a", "e", raise_if_exists=True)
    fs.copy("e", "f")
    with pytest.raises(RuntimeError, match="^Destination exists: f$"):
        fs.copy("e", "f", raise_if_exists=True)
    fs.remove("d")
    assert sorted(MockFileSystem._data) == ["dx", "e", "f"]


def test_store_file_lives_in_tempdir_and_is_named_per_process_tree():
    store = data()
    store["x"] = b"y"
    assert os.path.basename(store.db_path).startswith(f"luigi-mock-{mock_module._ROOT_PID}-")
    assert os.path.exists(store.db_path)


def test_threads_share_the_store():
    def write(i):
        with MockTarget(f"t/{i}").open("w") as f:
            f.write(str(i))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(MockFileSystem().listdir("t")) == sorted(f"t/{i}" for i in range(20))


# --- cross-process visibility -----------------------------------------------------------------


def _child_writes(path, text):
    with MockTarget(path).open("w") as f:
        f.write(text)


def _child_reads_and_writes(src, dest):
    content = MockTarget(src).open("r").read()
    with MockTarget(dest).open("w") as f:
        f.write(content.upper())


def _run_forked(target, *args):
    proc = FORK.Process(target=target, args=args)
    proc.start()
    proc.join()
    assert proc.exitcode == 0


def test_write_in_forked_child_is_visible_to_parent():
    data()["seed"] = b"from parent"  # store already in use before the fork
    _run_forked(_child_writes, "child/out.txt", "hello from child")
    assert MockTarget("child/out.txt").exists()
    assert MockTarget("child/out.txt").open("r").read() == "hello from child"
    _run_forked(_child_reads_and_writes, "seed", "upper")
    assert MockFileSystem().get_data("upper") == b"FROM PARENT"


def test_store_first_touched_in_child_is_still_shared():
    assert MockFileSystem._data is None  # Luigi's lazily created manager would be lost here
    _run_forked(_child_writes, "first", "touched in the child")
    assert MockFileSystem._data is None
    assert MockFileSystem().get_data("first") == b"touched in the child"


def test_sibling_processes_see_each_other():
    data()["seed"] = b""  # store in use before the forks
    procs = [FORK.Process(target=_child_writes, args=(f"sib/{i}", str(i))) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        assert p.exitcode == 0
    _run_forked(_child_reads_and_writes, "sib/3", "sib-check")
    assert MockFileSystem().get_data("sib-check") == b"3"
    assert sorted(MockFileSystem().listdir("sib")) == [f"sib/{i}" for i in range(4)]


def test_raw_os_fork_child_exiting_normally():
    data()["before"] = b"1"
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            MockFileSystem().get_all_data()["from-raw-fork"] = MockFileSystem().get_data("before") + b"2"
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert data()["from-raw-fork"] == b"12"


# --- MockFileSystem ---------------------------------------------------------------------------


def populate(*paths):
    for p in paths:
        data()[p] = p.encode()


def test_exists_isdir_listdir_are_component_aware():
    populate("foo", "foobar", "foo/a", "foo/b/c", "bar/x")
    fs = MockFileSystem()
    assert fs.exists("foo") and fs.exists("foo/a") and not fs.exists("foo/b")
    assert fs.listdir("foo") == ["foo", "foo/a", "foo/b/c"]  # not "foobar"
    assert fs.listdir("foo/") == ["foo/a", "foo/b/c"]
    assert fs.listdir("foo/b") == ["foo/b/c"] and fs.listdir("nothing") == []
    assert isinstance(fs.listdir("foo"), list)
    assert fs.isdir("foo") and fs.isdir("foo/b") and fs.isdir("bar")
    assert not fs.isdir("foo/a") and not fs.isdir("fo") and not fs.isdir("nothing")
    assert sorted(fs.listdir("")) == sorted(data().keys())


def test_remove():
    populate("foo", "foobar", "foo/a", "foo/b/c")
    fs = MockFileSystem()
    fs.remove("foo")  # recursive by default; Luigi also deleted "foobar"
    assert data().keys() == ["foobar"]
    fs.remove("missing")  # fine when recursive
    with pytest.raises(KeyError):
        fs.remove("missing", recursive=False)
    fs.remove("foobar", recursive=False, skip_trash=False)
    assert len(data()) == 0


def test_move_and_copy():
    populate("a", "b")
    fs = MockFileSystem()
    with pytest.raises(RuntimeError) as info:
        fs.move("a", "b", raise_if_exists=True)
    assert str(info.value) == "Destination exists: b"  # names the destination (Luigi: source)
    assert isinstance(info.value, FileAlreadyExists)
    fs.move("a", "b")
    assert data().items() == [("b", b"a")]
    fs.copy("b", "c")
    assert data()["c"] == b"a" and data()["b"] == b"a"
    with pytest.raises(RuntimeError, match="^Destination exists: c$"):
        fs.copy("b", "c", raise_if_exists=True)
    fs.rename("c", "d")
    assert "c" not in data() and data()["d"] == b"a"
    with pytest.raises(KeyError):
        fs.move("missing", "x")
    with pytest.raises(KeyError):
        fs.copy("missing", "x")
    fs.mkdir("anything", parents=False, raise_if_exists=True)  # no-op


def test_rename_dont_move_is_atomic_and_quiet(recwarn):
    populate("src", "taken")
    fs = MockFileSystem()
    with pytest.raises(FileAlreadyExists):
        fs.rename_dont_move("src", "taken")
    fs.rename_dont_move("src", "free")
    assert data()["free"] == b"src" and "src" not in data()
    assert len(recwarn) == 0


def test_clear():
    populate("a", "b/c")
    MockTarget.fs.clear()
    assert len(data()) == 0


# --- MockTarget -------------------------------------------------------------------------------


def test_mock_target_attributes():
    t = MockTarget("p", is_tmp=True, mirror_on_stderr=True)
    assert t.path == "p" and t.format is fmt.get_default_format() and t._mirror_on_stderr is True
    assert not hasattr(t, "is_tmp")
    assert isinstance(MockTarget.fs, MockFileSystem)
    assert MockTarget(pathlib.PurePosixPath("x/y")).path == "x/y"  # normalised (Luigi: kept raw)
    assert MockTarget("n", format=fmt.Nop).format is fmt.Nop
    with pytest.raises(TypeError):
        MockTarget(3.5)


def test_text_and_binary_round_trips():
    t = MockTarget("t.txt")
    assert not t.exists()
    with t.open("w") as f:
        f.write("line 1\nline 2\n")
    assert t.exists()
    assert list(t.open("r")) == ["line 1\n", "line 2\n"]
    assert t.open("rb").read() == "line 1\nline 2\n"  # the format decides, not the mode
    b = MockTarget("b.bin", format=fmt.Nop)
    with b.open("wb") as f:
        f.write(b"\x00\xff")
        with pytest.raises(TypeError):
            f.write("text")
    assert b.open("r").read() == b"\x00\xff"
    with MockTarget("empty").open("w"):
        pass
    assert MockFileSystem().get_data("empty") == b""


def test_open_missing_and_other_modes():
    with pytest.raises(KeyError):
        MockTarget("missing").open("r")
    data()["x"] = b"content"
    # as in Luigi, non-'w' modes open a reader; only 'r...' modes report readable()
    assert MockTarget("x", format=fmt.Nop).open("a").read() == b"content"
    with pytest.raises(OSError, match="not readable"):
        MockTarget("x").open("a").read()


def test_read_is_a_snapshot_and_write_replaces_on_close():
    data()["s"] = b"old"
    reader = MockTarget("s").open("r")
    writer = MockTarget("s").open("w")
    writer.write("new")
    assert MockFileSystem().get_data("s") == b"old"  # not before close
    writer.close()
    assert reader.read() == "old" and MockFileSystem().get_data("s") == b"new"


def test_buffer_methods():
    w = MockTarget("m", format=fmt.Nop).open("w")
    assert w.wrapper is w  # open() calls set_wrapper on what it returns
    assert (w.readable(), w.writeable(), w.writable(), w.seekable()) == (False, True, True, False)
    w.close()
    r = MockTarget("m", format=fmt.Nop).open("r")
    assert (r.readable(), r.writeable(), r.seekable()) == (True, False, False)
    t = MockTarget("m").open("w")
    assert t.wrapper is t  # forwarded through the text wrapper to the buffer


def test_failed_write_is_not_stored():
    with pytest.raises(ValueError):
        with MockTarget("f").open("w") as f:
            f.write("partial")
            raise ValueError
    assert not MockTarget("f").exists()


def test_unclosed_write_is_not_stored_when_collected():
    import gc

    f = MockTarget("u").open("w")
    f.write("never closed")
    del f
    gc.collect()
    assert not MockTarget("u").exists()


def test_close_inside_with():
    with MockTarget("c").open("w") as f:
        f.write("x")
        f.close()
    assert MockFileSystem().get_data("c") == b"x"


def test_move_rename_remove_and_temporary_path():
    with MockTarget("dir/a").open("w") as f:
        f.write("a")
    t = MockTarget("dir/a")
    t.move("dir/b")
    assert t.path == "dir/a" and not t.exists() and MockTarget("dir/b").exists()
    MockTarget("dir/b").rename("dir/c")
    assert MockFileSystem().listdir("dir") == ["dir/c"]
    final = MockTarget("out/result")
    with final.temporary_path() as tmp:
        assert tmp.startswith("out/result-luigi-tmp-")
        with MockTarget(tmp).open("w") as f:
            f.write("done")
        assert not final.exists()
    assert final.open("r").read() == "done" and data().keys() == ["dir/c", "out/result"]
    MockTarget("dir").remove()
    assert data().keys() == ["out/result"]


def test_gzip_through_mock_target():
    t = MockTarget("z.gz", format=fmt.Gzip)  # Luigi could not write this (no fileno)
    with t.open("w") as f:
        f.write(b"compressed " * 1000)
    assert gzip.decompress(MockFileSystem().get_data("z.gz")) == b"compressed " * 1000
    assert t.open("r").read() == b"compressed " * 1000
    text = MockTarget("t.gz", format=fmt.UTF8 >> fmt.Gzip)
    with text.open("w") as f:
        f.write("ü\n")
    assert list(text.open("r")) == ["ü\n"]


def test_mirror_on_stderr(capsys):
    with MockTarget("x", mirror_on_stderr=True).open("w") as f:
        f.write("a\n")
        f.write("b\n")
    assert capsys.readouterr().err == "x: a\nb\n"
    with MockTarget("y", mirror_on_stderr=True, format=fmt.Nop).open("w") as f:
        f.write(b"")  # Luigi: IndexError
        f.write(b"one\n")
        f.write(b"two")
        f.write(b" more\n")
    assert capsys.readouterr().err == "y: one\ny: two more\n"
    assert MockFileSystem().get_data("y") == b"one\ntwo more\n"
    with MockTarget("z").open("w") as f:
        f.write("quiet")
    assert capsys.readouterr().err == ""


class Part(luigi.Task):
    i = luigi.IntParameter()

    def output(self):
        return MockTarget(f"parts/{self.i}")

    def run(self):
        with self.output().open("w") as f:
            f.write(str(self.i))


class Total(luigi.Task):
    def requires(self):
        return [Part(i=i) for i in range(5)]

    def output(self):
        return MockTarget("total")

    def run(self):
        total = sum(int(t.open("r").read()) for t in self.input())
        with self.output().open("w") as f:
            f.write(str(total))


def test_pipeline_with_forked_workers_sees_mock_outputs():
    assert luigi.build([Total()], workers=3, local_scheduler=True)
    assert MockFileSystem().get_data("total") == b"10"
    assert sorted(MockFileSystem().listdir("parts")) == [f"parts/{i}" for i in range(5)]


STORE_CLEANUP_SCRIPT = """
import multiprocessing, sys
sys.path.insert(0, sys.argv[1])
import luigi.mock as m

def child():
    with m.MockTarget("from-child").open("w") as f:
        f.write("x")

p = multiprocessing.get_context("fork").Process(target=child)
p.start()
p.join()
print(m._SESSION)
print(m.MockFileSystem().get_data("from-child").decode())
m.MockFileSystem._data = None
m.MockFileSystem().get_all_data()["second-generation"] = b"y"
"""


def test_store_files_are_removed_when_the_program_exits(tmp_path):
    import subprocess
    import sys

    package_root = os.path.dirname(os.path.dirname(os.path.abspath(mock_module.__file__)))
    env = dict(os.environ, TMPDIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", STORE_CLEANUP_SCRIPT, package_root], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    session, content = out
    assert content == "x"
    assert session.startswith(str(tmp_path) + "/luigi-mock-")
    assert list(tmp_path.iterdir()) == []


def test_stores_of_killed_programs_are_swept(tmp_path, monkeypatch):
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    monkeypatch.setattr(mock_module, "_STORE_DIR", str(tmp_path))
    monkeypatch.setattr(mock_module, "_SESSION", str(tmp_path / f"luigi-mock-{os.getpid()}-abcd"))
    monkeypatch.setattr(mock_module, "_generation", 0)
    abandoned = tmp_path / f"luigi-mock-{dead.pid}-0123abcd-0.sqlite3"
    abandoned.write_bytes(b"")
    (tmp_path / f"luigi-mock-{dead.pid}-0123abcd-0.sqlite3-wal").write_bytes(b"")
    alive = tmp_path / f"luigi-mock-{os.getppid()}-0123abcd-0.sqlite3"
    alive.write_bytes(b"")
    unrelated = tmp_path / "luigi-mock-notapid-x-0.sqlite3"
    unrelated.write_bytes(b"")
    data()["x"] = b"y"  # first store of this (pretend) program: sweeps
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(f"luigi-mock-{os.getpid()}-")) == [
        alive.name,
        unrelated.name,
    ]
