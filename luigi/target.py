"""Targets: the things tasks produce, and the file-system abstraction file-like targets use.

A task is complete when every output ``Target.exists()``; that is all the scheduler needs.
``FileSystemTarget`` adds the file-system vocabulary (open, remove, atomic ``temporary_path``)
on top of a ``FileSystem`` object, and ``AtomicLocalFile`` is the "write to a private temp
file, publish on close" writer that local and remote targets build their writes on.
"""

from __future__ import annotations

import abc
import contextlib
import io
import logging
import os
import random
import tempfile
import warnings
from typing import Any, Iterator

logger = logging.getLogger("luigi-interface")

_WILDCARD_CHARS = ("*", "?", "[", "{")

# How many fresh temp names AtomicLocalFile tries before giving up on exclusive creation.
_TMP_NAME_ATTEMPTS = 100


def _open_exclusive(path: str, flags: int) -> int:
    """``FileIO`` opener: create the file or fail if anything (even a symlink) is there.
    (Mode ``"x"`` would do the same but report ``mode == "xb"`` instead of Luigi's ``"wb"``.)"""
    return os.open(path, flags | os.O_EXCL, 0o666)


class Target(metaclass=abc.ABCMeta):
    """Something a task produces; the task is complete once all its targets exist."""

    @abc.abstractmethod
    def exists(self) -> bool:
        """Return True if the target has been produced."""


class FileSystemException(Exception):
    """Root of the file-system errors raised by targets and file systems."""


class FileAlreadyExists(FileSystemException):
    """A path that must not exist does."""


class MissingParentDirectory(FileSystemException):
    """The parent directory is missing and creating parents was not requested."""


class NotADirectory(FileSystemException):
    """A directory was expected but something else exists at the path."""


class DestinationExists(FileAlreadyExists, RuntimeError):
    """``Destination exists: <path>`` from a no-clobber move/copy.

    Luigi raises ``RuntimeError`` for this in ``LocalFileSystem.copy`` and the mock file system
    but ``FileAlreadyExists`` in ``LocalFileSystem.move``; being both lets every caller keep its
    ``except`` clause while the error is now the same everywhere.
    """


class FileSystem(metaclass=abc.ABCMeta):
    """The operations object a ``FileSystemTarget`` delegates to.

    ``exists`` and ``remove`` are mandatory; the other operations default to
    ``NotImplementedError`` so a minimal client still works for completion checks.
    """

    @abc.abstractmethod
    def exists(self, path: str) -> bool:
        """Return True if a file or directory exists at ``path``."""

    @abc.abstractmethod
    def remove(self, path: str, recursive: bool = True, skip_trash: bool = True) -> None:
        """Remove ``path`` (recursively for directories by default)."""

    def _not_implemented(self, operation: str) -> NotImplementedError:
        return NotImplementedError(f"{operation}() not implemented on {self.__class__.__name__}")

    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None:
        """Create ``path``; ``MissingParentDirectory`` without ``parents``, ``FileAlreadyExists``
        with ``raise_if_exists``."""
        raise self._not_implemented("mkdir")

    def isdir(self, path: str) -> bool:
        """Return True if ``path`` is a directory."""
        raise self._not_implemented("isdir")

    def listdir(self, path: str) -> Any:
        """Return an iterable of all paths below ``path``, recursively."""
        raise self._not_implemented("listdir")

    def move(self, path: str, dest: str) -> None:
        """Move ``path`` to ``dest``."""
        raise self._not_implemented("move")

    def rename_dont_move(self, path: str, dest: str) -> None:
        """Rename ``path`` to ``dest`` without ever moving it *into* ``dest``; fail with
        ``FileAlreadyExists`` if ``dest`` exists. Commit step of ``temporary_path``.

        This default is not atomic (check, then move), hence the warning; clients that can do
        better override it.
        """
        warnings.warn(f"File system {self.__class__.__name__} client doesn't support atomic mv.", stacklevel=2)
        if self.exists(dest):
            raise FileAlreadyExists()
        self.move(path, dest)

    def rename(self, *args: Any, **kwargs: Any) -> None:
        """Alias of ``move``."""
        self.move(*args, **kwargs)

    def copy(self, path: str, dest: str) -> None:
        """Copy ``path`` to ``dest``."""
        raise self._not_implemented("copy")


class FileSystemTarget(Target):
    """Base of file-like targets (local, mock, HDFS, S3 ...): a path on some ``FileSystem``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)

    def __str__(self) -> str:
        return self.path

    @property
    @abc.abstractmethod
    def fs(self) -> FileSystem:
        """The ``FileSystem`` this target lives on (a class attribute in most subclasses)."""

    @abc.abstractmethod
    def open(self, mode: str) -> Any:
        """Return a readable (``'r'``) or writable (``'w'``) file-like object."""

    def exists(self) -> bool:
        """Return True if the path exists on the target's file system.

        A wildcard path may match a partially written dataset, so it is worth a warning. Luigi
        logs it on every call, which floods logs when the scheduler polls completion; we log it
        once per target object instead.
        """
        path = self.path
        if not getattr(self, "_wildcard_warned", False) and any(c in path for c in _WILDCARD_CHARS):
            logger.warning(
                "Using wildcards in path %s might lead to processing of an incomplete dataset; "
                "override exists() to suppress the warning.",
                path,
            )
            with contextlib.suppress(AttributeError):
                self._wildcard_warned = True
        return self.fs.exists(path)

    def remove(self) -> None:
        """Remove the target's path from its file system."""
        self.fs.remove(self.path)

    @contextlib.contextmanager
    def temporary_path(self) -> Iterator[str]:
        """Yield a temporary path next to the target and rename it into place on success.

        The caller writes a file (or a directory, for paths ending in a slash) at the yielded
        path. On normal exit it is committed with ``fs.rename_dont_move``; errors propagate.
        Unlike Luigi, which leaves the temp path behind when the body or the commit fails, we
        remove it (best effort, never masking the original error): nothing can use it later.
        """
        num = random.randrange(0, 10_000_000_000)
        slashless = self.path.rstrip("/").rstrip("\\")
        temp_path = f"{slashless}-luigi-tmp-{num:010}{self._trailing_slash()}"
        tmp_dir = os.path.dirname(slashless)
        if tmp_dir:
            self.fs.mkdir(tmp_dir, parents=True, raise_if_exists=False)
        try:
            yield temp_path
            self.fs.rename_dont_move(temp_path, self.path)
        except BaseException:
            self._discard_temporary(temp_path)
            raise

    def _discard_temporary(self, temp_path: str) -> None:
        """Best-effort removal of an uncommitted ``temporary_path``."""
        try:
            if self.fs.exists(temp_path):
                self.fs.remove(temp_path)
        except Exception:  # cleanup must never hide the error that made it necessary
            logger.debug("Could not remove temporary path %s", temp_path, exc_info=True)

    def _touchz(self) -> None:
        """Create the target as an empty file."""
        with self.open("w"):
            pass

    def _trailing_slash(self) -> str:
        """Return the path's trailing ``/`` or ``\\`` (or ``""``)."""
        return self.path[-1] if self.path[-1] in "\\/" else ""


class AtomicLocalFile(io.BufferedWriter):
    """A byte writer to a private local temp file whose content is published on ``close()``.

    Subclasses implement ``move_to_final_destination`` (rename locally, upload remotely) and
    may override ``generate_tmp_path``. Sturdier than Luigi in three ways:

    * the temp file is created exclusively (``O_EXCL``: never follows a planted symlink or
      clobbers someone else's file); on a name collision a fresh name is drawn;
    * ``close()`` is idempotent: a second close (e.g. ``close()`` inside ``with``) does not
      publish again, where Luigi failed with ``FileNotFoundError`` or uploaded twice;
    * a writer left by an exception in ``with`` is discarded immediately, not at garbage
      collection, and so is the temp file of a failed publication. An unclosed writer is still
      never published (only discarded when collected).
    """

    def __init__(self, path: str) -> None:
        tmp_path = self.generate_tmp_path(path)
        raw = None
        for _ in range(_TMP_NAME_ATTEMPTS):
            try:
                raw = io.FileIO(tmp_path, "w", opener=_open_exclusive)
                break
            except FileExistsError:
                fresh = self.generate_tmp_path(path)
                if fresh == tmp_path:
                    # A deterministic hook: the leftover can only be a stale file of an earlier
                    # writer of this same path (Luigi would have truncated it). Unlinking
                    # removes a symlink itself, never its target.
                    os.unlink(tmp_path)
                tmp_path = fresh
        if raw is None:
            raise FileExistsError(f"could not create a unique temporary file for {path}")
        self.__tmp_path = tmp_path
        self.path = path
        super().__init__(raw)

    @property
    def tmp_path(self) -> str:
        """The temp file the data is written to before publication."""
        return self.__tmp_path

    def generate_tmp_path(self, path: str) -> str:
        """Return a temp file name (in the system temp dir; ``path`` is ignored here)."""
        return os.path.join(tempfile.gettempdir(), f"luigi-s3-tmp-{random.randrange(0, 10_000_000_000):09d}")

    def move_to_final_destination(self) -> None:
        """Publish the finished temp file to ``self.path``."""
        raise NotImplementedError()

    def close(self) -> None:
        """Flush into the temp file, then publish it; later calls do nothing."""
        if self.closed:
            return
        try:
            super().close()
            self.move_to_final_destination()
        except BaseException:
            self._discard()  # Luigi left the temp file behind forever when publishing failed
            raise

    def _discard(self) -> None:
        """Close without publishing and delete the temp file (safe to call repeatedly)."""
        try:
            raw = self.raw
        except ValueError:  # never fully initialised or already detached
            raw = None
        if raw is not None and not raw.closed:
            raw.close()  # the raw file, not the buffer: buffered data is deliberately dropped
        tmp_path = self.__dict__.get("_AtomicLocalFile__tmp_path")
        if tmp_path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp_path)

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> Any:
        if exc_type is not None:
            self._discard()
            return None
        return super().__exit__(exc_type, exc, traceback)

    def __del__(self) -> None:
        # Replaces io's finaliser, which would close() and so publish an abandoned writer.
        with contextlib.suppress(Exception):
            if not self.closed:
                self._discard()
