"""Targets on the local file system, written atomically.

``LocalTarget.open("w")`` writes into ``<path>-luigi-tmp-NNNNNNNNN`` next to the final file and
renames it into place only when the handle is closed successfully, so a crash, an exception or
a failed compression command never leaves a partial file at the final path.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import random
import shutil
import tempfile
import warnings
from typing import Any, Iterator

from luigi.format import FileWrapper, Format, get_default_format
from luigi.target import (
    AtomicLocalFile,
    DestinationExists,
    FileAlreadyExists,
    FileSystem,
    FileSystemTarget,
    MissingParentDirectory,
    NotADirectory,
)

__all__ = ["atomic_file", "LocalFileSystem", "LocalTarget"]


class atomic_file(AtomicLocalFile):  # noqa: N801 - public name kept from Luigi
    """Local atomic writer: a temp file in the final file's directory, ``os.replace``d on close."""

    def generate_tmp_path(self, path: str) -> str:
        """Same directory as ``path``, so the publishing rename never crosses file systems."""
        return f"{path}-luigi-tmp-{random.randrange(0, 10_000_000_000):09d}"

    def move_to_final_destination(self) -> None:
        """Atomically replace the final file with the finished temp file."""
        os.replace(self.tmp_path, self.path)


def _copy_beside(old_path: str, new_path: str) -> str:
    """Copy ``old_path`` (file or directory) to a fresh sibling of ``new_path``; return its name."""
    tmp_path = f"{new_path}-{random.randint(0, 999999999):09d}"
    if os.path.isdir(old_path) and not os.path.islink(old_path):
        shutil.copytree(old_path, tmp_path, symlinks=True)
    else:
        shutil.copy(old_path, tmp_path)
    return tmp_path


def _remove_any(path: str) -> None:
    """Remove a file, symlink or directory tree."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.remove(path)


class LocalFileSystem(FileSystem):
    """``FileSystem`` over ``os``/``shutil``.

    Where Luigi checks and then acts (so a concurrent writer can be clobbered), the no-clobber
    operations here are atomic on POSIX: files are published with ``os.link`` (fails if the
    name exists) and directories claim their name with ``os.mkdir`` before the rename.
    """

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def isdir(self, path: str) -> bool:
        return os.path.isdir(path)

    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None:
        """Create a directory.

        Creates first and classifies failures afterwards (no check-then-act race). Unlike Luigi,
        ``parents=False`` works for single-component relative paths and trailing slashes,
        whose parent Luigi wrongly reported as missing.
        """
        try:
            if parents:
                os.makedirs(path)
            else:
                os.mkdir(path)
        except FileExistsError:
            if raise_if_exists:
                raise FileAlreadyExists() from None
            if not os.path.isdir(path):
                raise NotADirectory() from None
        except FileNotFoundError:
            if parents:
                raise
            raise MissingParentDirectory() from None

    def listdir(self, path: str) -> Iterator[str]:
        """Yield every file below ``path``, recursively (directories themselves are not yielded)."""
        for dirpath, _dirnames, filenames in os.walk(path):
            for filename in filenames:
                yield os.path.join(dirpath, filename)

    def remove(self, path: str, recursive: bool = True, skip_trash: bool = True) -> None:
        """Remove a file, or a directory tree when ``recursive``.

        ``skip_trash`` is accepted (and meaningless locally) for interface parity with other
        file systems; Luigi's local version rejected it with ``TypeError``.
        """
        if recursive and os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)

    def _ensure_parent(self, path: str) -> None:
        parent = os.path.dirname(path)
        if parent and not os.path.exists(parent):
            self.mkdir(parent)

    def copy(self, old_path: str, new_path: str, raise_if_exists: bool = False) -> None:
        """Copy a file; with ``raise_if_exists`` never overwrite (atomically, via a temp copy)."""
        if raise_if_exists and os.path.exists(new_path):
            raise DestinationExists(f"Destination exists: {new_path}")
        self._ensure_parent(new_path)
        if not raise_if_exists:
            shutil.copy(old_path, new_path)
            return
        tmp_path = _copy_beside(old_path, new_path)
        try:
            self._publish_no_clobber(tmp_path, new_path)
        except BaseException:
            _remove_any(tmp_path)
            raise

    def move(self, old_path: str, new_path: str, raise_if_exists: bool = False) -> None:
        """Rename ``old_path`` to ``new_path`` (never *into* an existing directory).

        Without ``raise_if_exists`` an existing file is replaced atomically. Across devices the
        data is copied next to the destination first (directories too, which Luigi could not
        move across devices), then renamed into place, then the source is removed.
        """
        if raise_if_exists and os.path.exists(new_path):
            raise DestinationExists(f"Destination exists: {new_path}")
        # The parent of "out/dir/" is "out": Luigi created "out/dir" itself, an empty directory
        # that the no-clobber rename (temporary_path's commit of a directory) would refuse.
        self._ensure_parent(new_path.rstrip("/") or new_path)
        if raise_if_exists:
            self._publish_no_clobber(old_path, new_path)
            return
        try:
            os.replace(old_path, new_path)
        except OSError as err:
            if err.errno != errno.EXDEV:
                raise
            tmp_path = _copy_beside(old_path, new_path)
            os.replace(tmp_path, new_path)
            _remove_any(old_path)

    def _publish_no_clobber(self, old_path: str, new_path: str) -> None:
        """Rename ``old_path`` to ``new_path``, failing with ``DestinationExists`` if it exists."""
        exists_error = DestinationExists(f"Destination exists: {new_path}")
        if os.path.isdir(old_path) and not os.path.islink(old_path):
            try:
                os.mkdir(new_path)  # claims the name; the rename below replaces this empty dir
            except FileExistsError:
                raise exists_error from None
            try:
                os.rename(old_path, new_path)
            except OSError as err:
                if err.errno != errno.EXDEV:
                    with contextlib.suppress(OSError):
                        os.rmdir(new_path)
                    raise
                shutil.copytree(old_path, new_path, symlinks=True, dirs_exist_ok=True)
                shutil.rmtree(old_path)
            return
        try:
            os.link(old_path, new_path, follow_symlinks=False)
        except FileExistsError:
            raise exists_error from None
        except OSError as err:
            if err.errno == errno.EXDEV:
                tmp_path = _copy_beside(old_path, new_path)
                try:
                    self._publish_no_clobber(tmp_path, new_path)
                finally:
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(tmp_path)
            elif err.errno in (errno.EPERM, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS):
                # No hard links on this file system: fall back to Luigi's check-then-rename.
                if os.path.exists(new_path):
                    raise exists_error from None
                os.replace(old_path, new_path)
                return
            else:
                raise
        os.remove(old_path)

    def rename_dont_move(self, path: str, dest: str) -> None:
        """Atomic no-clobber rename (the commit step of ``temporary_path``)."""
        self.move(path, dest, raise_if_exists=True)


class LocalTarget(FileSystemTarget):
    """A file (or directory) on the local file system; see the module docstring."""

    fs = LocalFileSystem()

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        format: Format | None = None,  # noqa: A002 - Luigi's keyword
        is_tmp: bool = False,
    ) -> None:
        if format is None:
            format = get_default_format()
        if not path:
            if not is_tmp:
                raise Exception("path or is_tmp must be set")
            path = os.path.join(tempfile.gettempdir(), f"luigi-tmp-{random.randint(0, 999999999):09d}")
        super().__init__(path)
        self.format = format
        self.is_tmp = is_tmp

    def makedirs(self) -> None:
        """Create the parent directory of the target, if missing."""
        parent = os.path.dirname(os.path.normpath(self.path))
        if parent:
            with contextlib.suppress(OSError):
                os.makedirs(parent, exist_ok=True)

    def open(self, mode: str = "r") -> Any:
        """Open for reading (``'r'``) or atomic writing (``'w'``) through ``self.format``.

        ``b`` and ``t`` are ignored (the format decides text vs bytes); Luigi rejected ``'rt'``
        with ``ValueError``, we accept it as documented.
        """
        rwmode = mode.replace("b", "").replace("t", "")
        if rwmode == "w":
            self.makedirs()
            return self._wrap(self.format.pipe_writer, atomic_file(self.path))
        if rwmode == "r":
            return self._wrap(self.format.pipe_reader, FileWrapper(io.BufferedReader(io.FileIO(self.path, "r"))))
        raise Exception(f"mode must be 'r' or 'w' (got: {mode})")

    @staticmethod
    def _wrap(pipe: Any, stream: Any) -> Any:
        """Apply a format to a freshly opened stream, discarding the stream if that fails
        (e.g. a missing compression binary), instead of leaving it to garbage collection."""
        try:
            return pipe(stream)
        except BaseException:
            if isinstance(stream, AtomicLocalFile):
                stream._discard()
            else:
                stream.close()
            raise

    def move(self, new_path: str, raise_if_exists: bool = False) -> None:
        """Move the file to ``new_path`` (``self.path`` is not updated)."""
        self.fs.move(self.path, new_path, raise_if_exists=raise_if_exists)

    def move_dir(self, new_path: str) -> None:
        """Move a directory target to ``new_path``."""
        self.move(new_path)

    def copy(self, new_path: str, raise_if_exists: bool = False) -> None:
        """Copy the file to ``new_path``."""
        self.fs.copy(self.path, new_path, raise_if_exists)

    @property
    def fn(self) -> str:
        """Deprecated alias of ``path``."""
        warnings.warn("Use LocalTarget.path to reference filename", DeprecationWarning, stacklevel=2)
        return self.path

    def __del__(self) -> None:
        # Temporary targets delete themselves when collected (Luigi's contract); a path that
        # vanished concurrently is not an error worth an "Exception ignored" message.
        if hasattr(self, "is_tmp") and self.is_tmp and self.exists():
            with contextlib.suppress(FileNotFoundError):
                self.remove()
