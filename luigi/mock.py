"""In-memory-style targets for testing pipelines without touching real output paths.

Design of the shared store
--------------------------
All ``MockFileSystem`` instances (hence all ``MockTarget``s) share one *path -> bytes*
mapping, ``MockFileSystem._data``, which must also be shared with worker processes forked by
Luigi (``workers > 1``): a task that writes a ``MockTarget`` in a child must be visible to the
parent's completion check. Luigi used a ``multiprocessing.Manager`` dict: a server process per
program, an IPC round trip per operation, O(n) scans for prefix operations, and a store that is
invisible to the parent when it was first created in a child.

Here the mapping (``SharedMockStore``) is a small SQLite database file (stdlib ``sqlite3``):

* Its file name is fixed per process tree at import time (``<tempdir>/luigi-mock-<pid>-<rand>``
  plus a generation number), and forked children inherit it. So it does not matter which
  process touches the store first: they all open the same file. The file is only created on
  first use and is removed when the process that imported this module exits (files of killed
  programs, whose pid no longer exists, are swept when the next program creates its store).
* Every operation is one short SQLite statement/transaction (WAL journal, no fsync), atomic
  across processes and threads; the key index makes exists/get/put O(log n) and
  ``listdir``/``remove``/``isdir`` proportional to the matched paths, not the whole store.
* Each process uses its own connection, re-opened after ``fork`` (connections inherited from
  the parent are set aside, never used or closed in the child, as SQLite requires).

Assigning ``MockFileSystem._data = None`` starts a fresh, empty store; any other
``MutableMapping`` (e.g. a plain ``dict``) may also be assigned for single-process use.

Paths are path-component aware: ``remove("foo")`` no longer deletes ``"foobar"``, and
``listdir``/``isdir`` match ``"foo"`` itself and ``"foo/..."`` only.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import io
import os
import pickle
import secrets
import sqlite3
import sys
import tempfile
import threading
import weakref
from collections.abc import MutableMapping
from typing import Any, Iterator

from luigi.format import Format, get_default_format
from luigi.target import DestinationExists, FileAlreadyExists, FileSystem, FileSystemTarget

__all__ = ["MockFileSystem", "MockTarget", "SharedMockStore"]

_ROOT_PID = os.getpid()
# Fixed at import so every process of the tree derives the same names (and cleanup finds them).
_STORE_DIR = tempfile.gettempdir()
_SESSION = os.path.join(_STORE_DIR, f"luigi-mock-{_ROOT_PID}-{secrets.token_hex(4)}")
_generation = 0

# Values are stored as raw bytes (the normal case) or pickled (anything else a user puts in).
_BYTES, _PICKLED = 0, 1

_SCHEMA = "CREATE TABLE IF NOT EXISTS files (path TEXT NOT NULL UNIQUE, kind INTEGER NOT NULL, content BLOB NOT NULL)"


def _next_store_path() -> str:
    """Name of the next fresh store; identical in a parent and the children it forks."""
    global _generation
    if _generation == 0 and os.getpid() == _ROOT_PID:
        _sweep_abandoned_stores()
    path = f"{_SESSION}-{_generation}.sqlite3"
    _generation += 1
    return path


def _sweep_abandoned_stores() -> None:
    """Delete stores whose owning program died without running its exit cleanup (killed)."""
    for path in glob.glob(os.path.join(glob.escape(_STORE_DIR), "luigi-mock-*-*-*.sqlite3*")):
        try:
            pid = int(os.path.basename(path).split("-")[2])
            os.kill(pid, 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                os.remove(path)
        except (ValueError, OSError):
            pass  # not our naming scheme, or alive under another user


@atexit.register
def _remove_store_files() -> None:
    if os.getpid() == _ROOT_PID:  # not in forked children that happen to exit normally
        for path in glob.glob(glob.escape(_SESSION) + "-*"):
            with contextlib.suppress(OSError):
                os.remove(path)


def _key(path: Any) -> str:
    """Normalise a path: ``str`` as is, ``bytes``/``os.PathLike`` decoded (Luigi kept them raw,
    so ``MockTarget(Path("a"))`` and ``MockTarget("a")`` were different files)."""
    if isinstance(path, str):
        return path
    try:
        return os.fsdecode(path)
    except TypeError:
        raise TypeError(f"mock file paths must be str or path-like, not {type(path).__name__}") from None


def _subtree_bounds(path: str) -> tuple[str, str] | None:
    """Half-open key range ``[low, high)`` of the paths strictly below ``path`` (None: all)."""
    prefix = path if path.endswith("/") else path + "/"
    if prefix == "/" and not path:
        return None
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _is_below(key: str, path: str) -> bool:
    bounds = _subtree_bounds(path)
    return bounds is None or bounds[0] <= key < bounds[1]


def _encode(value: Any) -> tuple[int, bytes]:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _BYTES, bytes(value)
    return _PICKLED, pickle.dumps(value)


def _decode(kind: int, content: bytes) -> Any:
    return content if kind == _BYTES else pickle.loads(content)


_creation_lock = threading.Lock()
_live_stores: weakref.WeakValueDictionary[int, SharedMockStore] = weakref.WeakValueDictionary()
# Connections inherited through fork: SQLite forbids using or closing them in the child.
_inherited_connections: list[sqlite3.Connection] = []


class SharedMockStore(MutableMapping):
    """A ``dict``-like *path -> value* mapping shared by a process tree (see module docstring).

    Behaves like Luigi's ``DictProxy``: ``keys()``/``values()``/``items()`` return lists in
    insertion order, ``copy()`` returns a plain ``dict``.
    """

    def __init__(self, db_path: str) -> None:
        self.db_path = db_path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        _live_stores[id(self)] = self

    # -- connection management ---------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.db_path, timeout=60, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute(_SCHEMA)
            self._conn = conn
        return self._conn

    @contextlib.contextmanager
    def _cursor(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """The connection, serialised between threads; ``write`` wraps a transaction."""
        with self._lock:
            conn = self._connection()
            if not write:
                yield conn
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _before_fork(self) -> None:
        self._lock.acquire()  # no fork in the middle of a statement of another thread

    def _after_fork(self, in_child: bool) -> None:
        if in_child:
            if self._conn is not None:
                _inherited_connections.append(self._conn)
            self._conn = None
            self._lock = threading.Lock()
        else:
            self._lock.release()

    # -- mapping protocol -------------------------------------------------------------------

    def __getitem__(self, path: Any) -> Any:
        key = _key(path)
        with self._cursor() as conn:
            row = conn.execute("SELECT kind, content FROM files WHERE path = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(path)
        return _decode(*row)

    def __setitem__(self, path: Any, value: Any) -> None:
        kind, content = _encode(value)
        with self._cursor() as conn:
            conn.execute(
                "INSERT INTO files (path, kind, content) VALUES (?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET kind = excluded.kind, content = excluded.content",
                (_key(path), kind, content),
            )

    def __delitem__(self, path: Any) -> None:
        with self._cursor() as conn:
            deleted = conn.execute("DELETE FROM files WHERE path = ?", (_key(path),)).rowcount
        if not deleted:
            raise KeyError(path)

    def __contains__(self, path: Any) -> bool:
        try:
            key = _key(path)
        except TypeError:
            return False
        with self._cursor() as conn:
            return conn.execute("SELECT 1 FROM files WHERE path = ?", (key,)).fetchone() is not None

    def __len__(self) -> int:
        with self._cursor() as conn:
            return conn.execute("SELECT count(*) FROM files").fetchone()[0]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __repr__(self) -> str:
        return f"<SharedMockStore {self.db_path} {dict(self.items())!r}>"

    def keys(self) -> list[str]:  # type: ignore[override]
        with self._cursor() as conn:
            return [row[0] for row in conn.execute("SELECT path FROM files ORDER BY rowid")]

    def values(self) -> list[Any]:  # type: ignore[override]
        with self._cursor() as conn:
            rows = conn.execute("SELECT kind, content FROM files ORDER BY rowid").fetchall()
        return [_decode(*row) for row in rows]

    def items(self) -> list[tuple[str, Any]]:  # type: ignore[override]
        with self._cursor() as conn:
            rows = conn.execute("SELECT path, kind, content FROM files ORDER BY rowid").fetchall()
        return [(path, _decode(kind, content)) for path, kind, content in rows]

    def pop(self, path: Any, *default: Any) -> Any:
        key = _key(path)
        with self._cursor(write=True) as conn:
            row = conn.execute("SELECT kind, content FROM files WHERE path = ?", (key,)).fetchone()
            if row is not None:
                conn.execute("DELETE FROM files WHERE path = ?", (key,))
        if row is not None:
            return _decode(*row)
        if default:
            return default[0]
        raise KeyError(path)

    def popitem(self) -> tuple[str, Any]:
        with self._cursor(write=True) as conn:
            row = conn.execute("SELECT rowid, path, kind, content FROM files ORDER BY rowid DESC LIMIT 1").fetchone()
            if row is not None:
                conn.execute("DELETE FROM files WHERE rowid = ?", (row[0],))
        if row is None:
            raise KeyError("popitem(): dictionary is empty")
        return row[1], _decode(row[2], row[3])

    def setdefault(self, path: Any, default: Any = None) -> Any:
        kind, content = _encode(default)
        key = _key(path)
        with self._cursor(write=True) as conn:
            conn.execute("INSERT OR IGNORE INTO files (path, kind, content) VALUES (?, ?, ?)", (key, kind, content))
            row = conn.execute("SELECT kind, content FROM files WHERE path = ?", (key,)).fetchone()
        return _decode(*row)

    def clear(self) -> None:
        with self._cursor() as conn:
            conn.execute("DELETE FROM files")

    def copy(self) -> dict[str, Any]:
        return dict(self.items())

    # -- path operations used by MockFileSystem -----------------------------------------------

    def subtree(self, path: str) -> list[str]:
        """``path`` itself (if stored) and every path below it, via the index."""
        bounds = _subtree_bounds(path)
        with self._cursor() as conn:
            if bounds is None:
                rows = conn.execute("SELECT path FROM files ORDER BY rowid")
            else:
                rows = conn.execute(
                    "SELECT path FROM files WHERE path = ? OR (path >= ? AND path < ?) ORDER BY rowid",
                    (path, *bounds),
                )
            return [row[0] for row in rows]

    def has_below(self, path: str) -> bool:
        """True if some path lies strictly below ``path``."""
        bounds = _subtree_bounds(path)
        with self._cursor() as conn:
            if bounds is None:
                return conn.execute("SELECT 1 FROM files LIMIT 1").fetchone() is not None
            query = "SELECT 1 FROM files WHERE path >= ? AND path < ? LIMIT 1"
            return conn.execute(query, bounds).fetchone() is not None

    def remove_subtree(self, path: str) -> None:
        """Delete ``path`` and everything below it (missing is fine)."""
        bounds = _subtree_bounds(path)
        with self._cursor() as conn:
            if bounds is None:
                conn.execute("DELETE FROM files")
            else:
                conn.execute("DELETE FROM files WHERE path = ? OR (path >= ? AND path < ?)", (path, *bounds))

    def transfer(self, src: str, dest: str, keep_source: bool, no_clobber: bool) -> None:
        """Copy or move one path atomically; ``no_clobber`` fails if ``dest`` exists."""
        with self._cursor(write=True) as conn:
            if no_clobber and conn.execute("SELECT 1 FROM files WHERE path = ?", (dest,)).fetchone():
                raise DestinationExists(f"Destination exists: {dest}")
            row = conn.execute("SELECT kind, content FROM files WHERE path = ?", (src,)).fetchone()
            if row is None:
                raise KeyError(src)
            if src == dest:
                return
            if not keep_source:
                conn.execute("DELETE FROM files WHERE path = ?", (src,))
            conn.execute(
                "INSERT INTO files (path, kind, content) VALUES (?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET kind = excluded.kind, content = excluded.content",
                (dest, *row),
            )


def _before_fork() -> None:
    _creation_lock.acquire()
    for store in list(_live_stores.values()):
        store._before_fork()


def _after_fork(in_child: bool) -> None:
    global _creation_lock
    for store in list(_live_stores.values()):
        store._after_fork(in_child)
    if in_child:
        _creation_lock = threading.Lock()
    else:
        _creation_lock.release()


os.register_at_fork(
    before=_before_fork,
    after_in_parent=lambda: _after_fork(False),
    after_in_child=lambda: _after_fork(True),
)


class MockFileSystem(FileSystem):
    """File-system operations on the shared mock store (see the module docstring)."""

    _data: MutableMapping | None = None

    def get_all_data(self) -> MutableMapping:
        """The shared *path -> bytes* mapping (created on first use)."""
        data = MockFileSystem._data
        if data is None:
            with _creation_lock:  # two threads must not create two different stores
                if MockFileSystem._data is None:
                    MockFileSystem._data = SharedMockStore(_next_store_path())
                data = MockFileSystem._data
        return data

    def get_data(self, fn: Any) -> Any:
        """Content stored at ``fn``; ``KeyError`` if missing."""
        return self.get_all_data()[fn]

    def exists(self, path: Any) -> bool:
        return MockTarget(path).exists()

    def isdir(self, path: Any) -> bool:
        """True if some path lies below ``path`` (Luigi: any key merely starting with it)."""
        data, path = self.get_all_data(), _key(path)
        if isinstance(data, SharedMockStore):
            return data.has_below(path)
        return any(_is_below(k, path) for k in data.keys())

    def listdir(self, path: Any) -> list[str]:
        """``path`` (if it is a file) and every path below it."""
        data, path = self.get_all_data(), _key(path)
        if isinstance(data, SharedMockStore):
            return data.subtree(path)
        return [k for k in data.keys() if k == path or _is_below(k, path)]

    def mkdir(self, path: Any, parents: bool = True, raise_if_exists: bool = False) -> None:
        """Directories are implicit in the mock file system."""

    def remove(self, path: Any, recursive: bool = True, skip_trash: bool = True) -> None:
        """Remove ``path``; recursively also everything below it (a missing path is fine)."""
        data, path = self.get_all_data(), _key(path)
        if not recursive:
            data.pop(path)
        elif isinstance(data, SharedMockStore):
            data.remove_subtree(path)
        else:
            for k in [k for k in data.keys() if k == path or _is_below(k, path)]:
                del data[k]

    def _transfer(self, path: Any, dest: Any, keep_source: bool, no_clobber: bool) -> None:
        data, path, dest = self.get_all_data(), _key(path), _key(dest)
        if isinstance(data, SharedMockStore):
            data.transfer(path, dest, keep_source, no_clobber)
            return
        if no_clobber and dest in data:
            raise DestinationExists(f"Destination exists: {dest}")
        data[dest] = data[path] if keep_source else data.pop(path)

    def move(self, path: Any, dest: Any, raise_if_exists: bool = False) -> None:
        """Move one path. The "Destination exists" error names the destination (Luigi named
        the source) and is both a ``RuntimeError`` (Luigi's type) and ``FileAlreadyExists``."""
        self._transfer(path, dest, keep_source=False, no_clobber=raise_if_exists)

    def copy(self, path: Any, dest: Any, raise_if_exists: bool = False) -> None:
        """Copy one path (same existence rule as ``move``)."""
        self._transfer(path, dest, keep_source=True, no_clobber=raise_if_exists)

    def rename_dont_move(self, path: Any, dest: Any) -> None:
        """Atomic no-clobber rename. Luigi used the generic check-then-move with its "doesn't
        support atomic mv" warning; the store can do it atomically, so there is no warning."""
        try:
            self.move(path, dest, raise_if_exists=True)
        except DestinationExists:
            raise FileAlreadyExists() from None

    def clear(self) -> None:
        """Empty the shared store."""
        self.get_all_data().clear()


class _MockFile(io.BytesIO):
    """Per-``open()`` buffer: a snapshot to read, or the content to store on ``close()``."""

    def __init__(self, target: MockTarget, mode: str, data: bytes = b"") -> None:
        super().__init__(data)
        self._target = target
        self._mode = mode
        self._discarded = False
        self._at_line_start = True
        self.wrapper: Any = None

    def set_wrapper(self, wrapper: Any) -> None:
        self.wrapper = wrapper

    def readable(self) -> bool:
        return self._mode[0] == "r"

    def writeable(self) -> bool:  # sic: Luigi's spelling; writable() stays BytesIO's
        return self._mode[0] == "w"

    def seekable(self) -> bool:
        return False

    def write(self, data: Any) -> int:
        if self._target._mirror_on_stderr:
            self._mirror(data)
        return super().write(data)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def _mirror(self, data: Any) -> None:
        """Echo a chunk to stderr, prefixed with the path at line starts. Luigi's version
        never re-prefixed byte chunks and failed on empty writes."""
        text = bytes(data).decode("utf-8", "replace") if not isinstance(data, str) else data
        if not text:
            return
        if self._at_line_start:
            sys.stderr.write(self._target.path + ": ")
        sys.stderr.write(text)
        self._at_line_start = text.endswith("\n")

    def close(self) -> None:
        if not self.closed and not self._discarded and self._mode[0] == "w":
            self._target.fs.get_all_data()[self._target.path] = self.getvalue()
        super().close()

    def _discard(self) -> None:
        """Drop the written content instead of storing it."""
        self._discarded = True
        super().close()

    def __enter__(self) -> _MockFile:
        return self

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self._discard()

    def __del__(self) -> None:
        # Luigi's buffer stored whatever it held when garbage-collected: partial content after
        # an exception, and unclosed handles at an unpredictable moment (open() creates a
        # reference cycle through set_wrapper). Like LocalTarget, only close() publishes now.
        if not self.closed:
            self._discard()


class MockTarget(FileSystemTarget):
    """A target in the shared mock store, written through its format like a ``LocalTarget``."""

    fs = MockFileSystem()

    def __init__(
        self,
        fn: Any,
        is_tmp: Any = None,
        mirror_on_stderr: bool = False,
        format: Format | None = None,  # noqa: A002 - Luigi's keyword
    ) -> None:
        self._mirror_on_stderr = mirror_on_stderr
        self.path = _key(fn)
        self.format = format or get_default_format()

    def exists(self) -> bool:
        return self.path in self.fs.get_all_data()

    def move(self, path: Any, raise_if_exists: bool = False) -> None:
        """Move the content to ``path`` (``self.path`` is not updated)."""
        self.fs.move(self.path, path, raise_if_exists)

    def rename(self, *args: Any, **kwargs: Any) -> None:
        self.move(*args, **kwargs)

    def open(self, mode: str = "r") -> Any:
        """``'w'``: a writer stored on close; anything else: a reader of the current content
        (``KeyError`` if missing)."""
        if mode[0] == "w":
            writer = self.format.pipe_writer(_MockFile(self, mode))
            writer.set_wrapper(writer)
            return writer
        return self.format.pipe_reader(_MockFile(self, mode, self.fs.get_all_data()[self.path]))
