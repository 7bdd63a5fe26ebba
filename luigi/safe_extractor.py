"""Tar extraction guarded against path traversal (used to unpack shipped code archives).

Every member is checked before anything is extracted. Sturdier than Luigi: containment is
path-component aware (``/data/out`` no longer accepts ``/data/out-evil/x``), symbolic and hard
links must point inside the destination too, and where the interpreter supports extraction
filters the ``"data"`` filter is applied as a second line of defence (it also resolves links
created by earlier members, and keeps the behaviour independent of the Python version).
"""

from __future__ import annotations

import os
import tarfile
from typing import Any, Iterable

__all__ = ["SafeExtractor"]


class SafeExtractor:
    """Extracts tar archives into ``path``, refusing members that would land outside it."""

    def __init__(self, path: str = ".") -> None:
        self.path = path

    @staticmethod
    def _is_within_directory(directory: str, target: str) -> bool:
        """True if ``target`` is ``directory`` or lies below it (compared per path component)."""
        base = os.path.abspath(directory)
        candidate = os.path.abspath(target)
        return os.path.commonpath([base, candidate]) == base

    def _member_escapes(self, member: tarfile.TarInfo) -> bool:
        if not self._is_within_directory(self.path, os.path.join(self.path, member.name)):
            return True
        if member.issym():
            link_dir = os.path.dirname(os.path.join(self.path, member.name))
            return not self._is_within_directory(self.path, os.path.join(link_dir, member.linkname))
        if member.islnk():
            return not self._is_within_directory(self.path, os.path.join(self.path, member.linkname))
        return False

    def safe_extract(
        self, tar_path: str, members: Iterable[tarfile.TarInfo] | None = None, *, numeric_owner: bool = False
    ) -> None:
        """Extract ``tar_path`` (any compression) into ``self.path``.

        Raises ``RuntimeError("Attempted Path Traversal in Tar File")`` before extracting
        anything if any member of the archive (not only of ``members``) escapes.
        """
        with tarfile.open(tar_path, "r") as tar:
            for member in tar.getmembers():
                if self._member_escapes(member):
                    raise RuntimeError("Attempted Path Traversal in Tar File")
            extra: dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(self.path, members, numeric_owner=numeric_owner, **extra)
