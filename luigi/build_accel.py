"""Compile the hottest modules with Cython into ``luigi/_accel/`` (see ``luigi/_compiled.py``).

Usage: python -m luigi.build_accel [--clean]      (an installed package; ``pip install luigi[accel]``)
       python dev/build_accel.py [--clean]        (a checkout: the same, plus C files in build/accel)

Needs Cython 3 and a C compiler, and a writable package directory (a virtualenv). Modules whose
source, declarations and compiler settings are unchanged since their last build are skipped. The
result is optional: ``import luigi`` uses each compiled module only while its recorded source hash
matches, and plain Python otherwise; ``--clean`` removes it.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import json
import os
import shutil
import sys
import tempfile

from luigi import _compiled

# The directory holding the ``luigi`` package: module sources are compiled by their path relative
# to it, so each extension gets its dotted name.
ROOT = os.path.dirname(_compiled.PACKAGE_DIR)

# The per-task path of a build: worker, scheduler state machine and indexes, task model.
MODULES = [
    "luigi.worker",
    "luigi.scheduler",
    "luigi.task",
    "luigi.task_register",
    "luigi.parameter",
    "luigi._worker.queues",
    "luigi._scheduler.index",
    "luigi._scheduler.readyqueue",
    "luigi._scheduler.records",
    "luigi._scheduler.state",
    "luigi._scheduler.selection",
    "luigi._scheduler.pruning",
    "luigi._scheduler.expiry",
    "luigi._scheduler.reports",
]

# Plain Python semantics: annotations are documentation here, not C types, and a None where a
# .pxd declares a C type raises AttributeError as in Python (nonecheck) instead of crashing.
DIRECTIVES = {"language_level": 3, "annotation_typing": False, "binding": True, "nonecheck": True}


def _stale(modules: dict, suffix: str) -> dict[str, str]:
    """Modules to (re)compile (changed source or compiler directives), with the hash of the source
    about to be compiled."""
    stale = {}
    declarations = _compiled.declaration_files(_compiled.PACKAGE_DIR)
    declarations_hash = _compiled.hash_files(declarations)
    for name in MODULES:
        entry = modules.get(name)
        source = _compiled.source_path(_compiled.PACKAGE_DIR, name)
        digest = _compiled.source_digest(source, declarations, declarations_hash)
        if (entry is None or entry.get("sha256") != digest or entry.get("directives") != DIRECTIVES
                or not os.path.exists(os.path.join(_compiled.ACCEL_DIR, name + suffix))):
            stale[name] = digest
    return stale


def _compile(names: list[str], out_dir: str) -> None:
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension

    extensions = [Extension(name, [os.path.relpath(_compiled.source_path(_compiled.PACKAGE_DIR, name), ROOT)])
                  for name in names]
    with tempfile.TemporaryDirectory() as build_temp:
        # In a checkout the generated C stays in build/accel (git-ignored): profilers map compiled
        # code back to it. An installed package keeps no C files.
        checkout = os.path.exists(os.path.join(ROOT, "pyproject.toml"))
        c_dir = os.path.join(ROOT, "build", "accel") if checkout else os.path.join(build_temp, "c")
        cwd = os.getcwd()
        os.chdir(ROOT)
        try:
            compiled = cythonize(extensions, compiler_directives=DIRECTIVES, nthreads=os.cpu_count() or 1,
                                 build_dir=c_dir, force=True, quiet=True)
            dist = Distribution({"ext_modules": compiled, "script_name": "build_accel"})
            command = dist.get_command_obj("build_ext")
            command.build_lib = out_dir
            command.build_temp = build_temp
            command.parallel = os.cpu_count() or 1
            dist.run_command("build_ext")
        finally:
            os.chdir(cwd)


def _install(stale: dict[str, str], modules: dict, suffix: str) -> None:
    """Compile ``stale`` and move the results into place; ``modules`` (the manifest) is updated."""
    with tempfile.TemporaryDirectory() as out_dir:
        _compile(list(stale), out_dir)
        for name, digest in stale.items():
            built = os.path.join(out_dir, *name.split(".")) + suffix
            target = os.path.join(_compiled.ACCEL_DIR, name + suffix)
            shutil.copyfile(built, target + ".tmp")
            os.replace(target + ".tmp", target)  # running interpreters keep their mapped copy
            modules[name] = {"file": name + suffix, "sha256": digest, "directives": DIRECTIVES}


def _write_manifest(modules: dict, suffix: str) -> None:
    manifest = {"ext_suffix": suffix, "modules": {name: modules[name] for name in MODULES if name in modules}}
    manifest_path = os.path.join(_compiled.ACCEL_DIR, _compiled.MANIFEST)
    with open(manifest_path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1, sort_keys=True)
    os.replace(manifest_path + ".tmp", manifest_path)  # readers see the old or the new manifest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clean", action="store_true", help="remove the compiled build and exit")
    args = parser.parse_args()
    if args.clean:
        shutil.rmtree(_compiled.ACCEL_DIR, ignore_errors=True)
        return 0
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    modules = _compiled.read_manifest(_compiled.ACCEL_DIR)
    dropped = [name for name in modules if name not in MODULES]  # no longer compiled: back to source
    for name in dropped:
        try:
            os.remove(os.path.join(_compiled.ACCEL_DIR, modules.pop(name)["file"]))
        except OSError:
            pass
    stale = _stale(modules, suffix)
    if stale:
        try:
            import Cython.Build  # noqa: F401  (checked before any work)
        except ImportError:
            print("build_accel: Cython 3 is not installed (pip install 'luigi[accel]'); luigi keeps running "
                  "in plain Python", file=sys.stderr)
            return 1
        print("build_accel: compiling " + ", ".join(stale), flush=True)
        os.makedirs(_compiled.ACCEL_DIR, exist_ok=True)
        try:
            _install(stale, modules, suffix)
        except Exception as exc:  # no C compiler, a compile or link error: nothing was installed
            print(f"build_accel: compiling failed ({type(exc).__name__}: {exc}); nothing was installed, and "
                  "modules without a current build run in plain Python", file=sys.stderr)
            return 1
    if stale or dropped:
        _write_manifest(modules, suffix)
    print(f"build_accel: {len(stale)} of {len(MODULES)} modules compiled into {_compiled.ACCEL_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
