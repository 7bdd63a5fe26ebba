"""Optional compiled builds of the hottest modules (``python -m luigi.build_accel``).

The worker, the scheduler and the task model run unchanged when Cython compiles them, about a
third faster. The build puts the extension modules in ``luigi/_accel/`` with a manifest naming,
for each module, its file and the SHA-256 of the source it was compiled from. ``install()`` (run
first thing by ``import luigi``) puts a finder in front of the import system that loads a
compiled module only while that hash still matches the ``.py`` file on disk: an edited module is
imported from its source, never from a stale build. A compiled module that links against another
one at the C level (a ``cimport`` in its ``.pxd``) is only served while that one is too: it
cannot work with the plain-Python form of a module it was compiled against. Without a build (a plain checkout, or
``LUIGI_PURE_PYTHON=1`` in the environment) every module is plain Python.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import re
import sys
from typing import Any

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
ACCEL_DIR = os.path.join(PACKAGE_DIR, "_accel")
MANIFEST = "manifest.json"
PURE_ENV = "LUIGI_PURE_PYTHON"


def source_path(package_dir: str, module: str) -> str:
    """The ``.py`` file of ``luigi.<a>.<b>`` under ``package_dir`` (the ``luigi`` directory)."""
    return os.path.join(package_dir, *module.split(".")[1:]) + ".py"


def declaration_files(package_dir: str) -> list[str]:
    """The ``.pxd`` files (C declarations) of the package and its subpackages, sorted."""
    found = []
    for entry in os.scandir(package_dir):
        if entry.is_dir() and not entry.name.startswith((".", "_accel", "__")):
            found.extend(sub.path for sub in os.scandir(entry.path) if sub.name.endswith(".pxd"))
        elif entry.name.endswith(".pxd"):
            found.append(entry.path)
    return sorted(found)


def hash_files(paths: list[str], digest: Any = None) -> Any:
    """``digest`` (a new SHA-256 by default) updated with the name and content of each file."""
    digest = hashlib.sha256() if digest is None else digest
    for name in paths:
        with open(name, "rb") as handle:
            digest.update(os.path.basename(name).encode() + b"\0" + handle.read() + b"\0")
    return digest


def source_digest(path: str, declarations: list[str], declarations_hash: Any = None) -> str:
    """SHA-256 of every ``.pxd`` of the package and of a module's source: a declaration file can
    change the binary layout other compiled modules rely on, so any change to one makes the whole
    build stale. ``declarations_hash``: ``hash_files(declarations)``, when already computed."""
    base = hash_files(declarations) if declarations_hash is None else declarations_hash
    return hash_files([path], base.copy()).hexdigest()


# ``from luigi.x cimport a, b`` / ``cimport luigi.x`` in a .pxd file.
_CIMPORT = re.compile(r"^\s*(?:from\s+(luigi[\w.]*)\s+cimport\s+([\w ,]+)|cimport\s+(luigi[\w.]*))", re.M)


def c_dependencies(package_dir: str, module: str, modules: Any) -> set[str]:
    """The modules among ``modules`` that ``module``'s compiled form links against: the
    ``cimport``s of its ``.pxd`` file (none without one)."""
    try:
        with open(source_path(package_dir, module)[:-3] + ".pxd", encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return set()
    found = set()
    for package, names, whole in _CIMPORT.findall(text):
        if whole:
            found.add(whole)
        for name in names.split(",") if package else ():
            submodule = f"{package}.{name.strip()}"
            found.add(submodule if submodule in modules else package)
    return found & set(modules)


class CompiledFinder:
    """Meta-path finder answering only for the modules of a manifest whose build is fresh."""

    def __init__(self, package_dir: str, accel_dir: str, modules: dict[str, dict]) -> None:
        self._package_dir = package_dir
        self._accel_dir = accel_dir
        self._modules = modules  # module name -> {"file": ..., "sha256": ...}
        self._declarations: tuple[list[str], Any] | None = None  # the .pxd files and their hash, read once
        self._served: dict[str, bool] = {}  # module name -> served compiled (decided once)

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name not in self._modules or not self._serves(name):
            return None
        binary = os.path.join(self._accel_dir, self._modules[name]["file"])
        loader = importlib.machinery.ExtensionFileLoader(name, binary)
        return importlib.util.spec_from_file_location(name, binary, loader=loader)

    def _serves(self, name: str) -> bool:
        """Fresh, and so is every module it links against."""
        served = self._served.get(name)
        if served is None:
            self._served[name] = False  # a cimport cycle cannot compile: never loops here
            served = self._served[name] = self._fresh(name) and all(
                self._serves(dependency) for dependency in c_dependencies(self._package_dir, name, self._modules))
        return served

    def _fresh(self, name: str) -> bool:
        binary = os.path.join(self._accel_dir, self._modules[name]["file"])
        try:
            if self._declarations is None:
                files = declaration_files(self._package_dir)
                self._declarations = (files, hash_files(files))
            files, declarations_hash = self._declarations
            digest = source_digest(source_path(self._package_dir, name), files, declarations_hash)
            return digest == self._modules[name]["sha256"] and os.path.exists(binary)
        except OSError:
            return False


def read_manifest(accel_dir: str) -> dict[str, dict]:
    """Modules of the build in ``accel_dir`` made for this interpreter ({} when there is none)."""
    try:
        with open(os.path.join(accel_dir, MANIFEST), encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, ValueError):
        return {}
    if not isinstance(manifest, dict) or manifest.get("ext_suffix") != importlib.machinery.EXTENSION_SUFFIXES[0]:
        return {}
    modules = manifest.get("modules")
    if not isinstance(modules, dict):
        return {}
    return {name: entry for name, entry in modules.items()  # a malformed entry is no build at all
            if isinstance(entry, dict) and isinstance(entry.get("file"), str) and isinstance(entry.get("sha256"), str)}


_finder: CompiledFinder | None = None


def install() -> None:
    """Serve fresh compiled modules from now on (idempotent; a no-op without a build)."""
    global _finder
    if _finder is not None or os.environ.get(PURE_ENV, "") not in ("", "0"):
        return
    modules = read_manifest(ACCEL_DIR)
    if modules:
        _finder = CompiledFinder(PACKAGE_DIR, ACCEL_DIR, modules)
        sys.meta_path.insert(0, _finder)


def compiled_modules() -> list[str]:
    """Names of the ``luigi`` modules this interpreter imported from a compiled build."""
    return sorted(name for name, module in list(sys.modules.items())
                  if name.startswith("luigi") and os.path.dirname(getattr(module, "__file__", None) or "") == ACCEL_DIR)
