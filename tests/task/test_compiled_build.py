"""The optional compiled build (luigi/_compiled.py, luigi/build_accel.py): a compiled module is used
only while it matches its source, and never when plain Python is asked for."""

from __future__ import annotations

import importlib.machinery
import json
import os
import shutil
import subprocess
import sys

import pytest

import luigi
from luigi import _compiled

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def _probe(pythonpath: str, pure: bool) -> dict:
    """Import luigi in a fresh interpreter; report which modules came from the compiled build."""
    env = {k: v for k, v in os.environ.items() if k != _compiled.PURE_ENV}
    env["PYTHONPATH"] = pythonpath
    if pure:
        env[_compiled.PURE_ENV] = "1"
    code = ("import json, luigi, luigi._compiled as c; "
            "print(json.dumps({'compiled': c.compiled_modules(), 'worker': luigi.worker.__file__}))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _fake_build(tmp_path, source_text: str = "X = 1\n", recorded_text: str | None = None):
    """A package dir with luigi.fake's source and a (dummy) compiled file recorded for it."""
    package_dir = tmp_path / "luigi"
    accel_dir = package_dir / "_accel"
    accel_dir.mkdir(parents=True)
    source = package_dir / "fake.py"
    source.write_text(source_text if recorded_text is None else recorded_text)
    digest = _compiled.source_digest(str(source), _compiled.declaration_files(str(package_dir)))
    source.write_text(source_text)
    (accel_dir / ("luigi.fake" + SUFFIX)).write_bytes(b"not really a shared object")
    modules = {"luigi.fake": {"file": "luigi.fake" + SUFFIX, "sha256": digest}}
    (accel_dir / _compiled.MANIFEST).write_text(json.dumps({"ext_suffix": SUFFIX, "modules": modules}))
    return str(package_dir), str(accel_dir)


def test_a_fresh_build_is_served_as_an_extension_module(tmp_path):
    package_dir, accel_dir = _fake_build(tmp_path)
    finder = _compiled.CompiledFinder(package_dir, accel_dir, _compiled.read_manifest(accel_dir))
    spec = finder.find_spec("luigi.fake")
    assert spec is not None and spec.origin == os.path.join(accel_dir, "luigi.fake" + SUFFIX)
    assert isinstance(spec.loader, importlib.machinery.ExtensionFileLoader)
    assert finder.find_spec("luigi.other") is None  # not in the manifest: the normal import system


def test_an_edited_source_is_never_served_from_its_stale_build(tmp_path):
    package_dir, accel_dir = _fake_build(tmp_path, source_text="X = 2\n", recorded_text="X = 1\n")
    finder = _compiled.CompiledFinder(package_dir, accel_dir, _compiled.read_manifest(accel_dir))
    assert finder.find_spec("luigi.fake") is None


def test_a_changed_declaration_file_makes_every_compiled_module_stale(tmp_path):
    """A .pxd fixes the binary layout other compiled modules were built against."""
    package_dir, accel_dir = _fake_build(tmp_path)
    finder = _compiled.CompiledFinder(package_dir, accel_dir, _compiled.read_manifest(accel_dir))
    os.makedirs(os.path.join(package_dir, "sub"))
    with open(os.path.join(package_dir, "sub", "other.pxd"), "w") as handle:
        handle.write("cdef class Other:\n    pass\n")
    assert finder.find_spec("luigi.fake") is None


def test_a_missing_binary_or_source_falls_back_to_python(tmp_path):
    package_dir, accel_dir = _fake_build(tmp_path)
    finder = _compiled.CompiledFinder(package_dir, accel_dir, _compiled.read_manifest(accel_dir))
    os.remove(os.path.join(accel_dir, "luigi.fake" + SUFFIX))
    assert finder.find_spec("luigi.fake") is None
    os.remove(os.path.join(package_dir, "fake.py"))
    assert finder.find_spec("luigi.fake") is None


def test_a_build_for_another_interpreter_or_a_corrupt_manifest_is_ignored(tmp_path):
    package_dir, accel_dir = _fake_build(tmp_path)
    manifest_path = os.path.join(accel_dir, _compiled.MANIFEST)
    manifest = json.loads(open(manifest_path).read())
    manifest["ext_suffix"] = ".cpython-39-x86_64-linux-gnu.so"
    open(manifest_path, "w").write(json.dumps(manifest))
    assert _compiled.read_manifest(accel_dir) == {}
    open(manifest_path, "w").write("{not json")
    assert _compiled.read_manifest(accel_dir) == {}
    manifest["ext_suffix"] = SUFFIX
    manifest["modules"]["luigi.broken"] = {"file": 3}
    open(manifest_path, "w").write(json.dumps(manifest))
    assert set(_compiled.read_manifest(accel_dir)) == {"luigi.fake"}


def test_plain_python_is_used_when_asked_for():
    probe = _probe(REPO, pure=True)
    assert probe["compiled"] == []
    assert probe["worker"].endswith(os.path.join("luigi", "worker.py"))


def test_this_test_run_uses_the_mode_it_was_started_in():
    """dev/run_tests.py runs the suite once compiled (LUIGI_EXPECT_COMPILED=1), once plain."""
    compiled = _compiled.compiled_modules()
    if os.environ.get("LUIGI_EXPECT_COMPILED") == "1":
        assert {"luigi.worker", "luigi.scheduler", "luigi._scheduler.index", "luigi.task"} <= set(compiled)
        assert os.path.dirname(luigi.worker.__file__) == _compiled.ACCEL_DIR
    if os.environ.get(_compiled.PURE_ENV) == "1":
        assert compiled == []
    assert set(compiled) <= set(_compiled.read_manifest(_compiled.ACCEL_DIR))


def test_editing_one_module_of_a_real_build_recompiles_nothing_silently(tmp_path):
    """A copy of the package with one edited module: that module comes from its source, the
    others from the build (when this checkout has one; without it everything is plain Python)."""
    copy = tmp_path / "luigi"
    shutil.copytree(os.path.dirname(luigi.__file__), copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / "worker.py", "a") as handle:
        handle.write("\n# edited after the build\n")
    probe = _probe(str(tmp_path), pure=False)
    assert probe["worker"] == str(copy / "worker.py")
    built = set(_compiled.read_manifest(str(copy / "_accel")))
    assert set(probe["compiled"]) == {name for name in built if name != "luigi.worker"}


@pytest.mark.parametrize("edited, from_source", [
    ("_scheduler/reports.py", {"luigi._scheduler.reports", "luigi.scheduler"}),
    ("_scheduler/records.py", {"luigi._scheduler.records", "luigi._scheduler.index", "luigi._scheduler.state",
                               "luigi._scheduler.reports", "luigi.scheduler"}),
])
def test_an_edited_module_takes_the_modules_linked_against_it_back_to_source(tmp_path, edited, from_source):
    """A compiled module that cimports an edited one (its .pxd says so) cannot use that module's
    plain-Python form: it runs from source too, and ``import luigi`` still works."""
    copy = tmp_path / "luigi"
    shutil.copytree(os.path.dirname(luigi.__file__), copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / edited, "a") as handle:
        handle.write("\n# edited after the build\n")
    probe = _probe(str(tmp_path), pure=False)
    built = set(_compiled.read_manifest(str(copy / "_accel")))
    assert set(probe["compiled"]) == built - from_source


def test_a_missing_record_raises_as_in_python_instead_of_crashing():
    """Functions the .pxd files type (records, state) get None where a record belongs: the same
    AttributeError as plain Python, not a crash of the interpreter (run in a child, in this run's
    mode)."""
    code = (
        "import luigi.scheduler as s\n"
        "from luigi._scheduler import reports\n"
        "state = s.SimpleTaskState('unused')\n"
        "calls = [lambda: state.touch_task(None), lambda: state._index.refresh(None),\n"
        "         lambda: state.set_status(None, 'DONE'), lambda: reports.adopt_deps(None, ['a'], None)]\n"
        "for call in calls:\n"
        "    try:\n"
        "        call()\n"
        "    except AttributeError as exc:\n"
        "        print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "'NoneType' object has no attribute 'id'",
        "'NoneType' object has no attribute 'id'",
        "'NoneType' object has no attribute 'status'",
        "'NoneType' object has no attribute 'deps'",
    ]


def test_the_build_command_ships_with_the_package():
    """``python -m luigi.build_accel`` (what an installed package runs) is the checkout's build
    command: its declarations are package data, and on a fresh build it compiles nothing."""
    out = subprocess.run([sys.executable, "-m", "luigi.build_accel", "--help"], capture_output=True, text=True,
                         cwd=REPO, check=True)
    assert "--clean" in out.stdout and "python -m luigi.build_accel" in out.stdout
    with open(os.path.join(REPO, "pyproject.toml"), encoding="utf-8") as handle:
        package_data = [line for line in handle if line.startswith("luigi = [")][0]
    shipped = {os.path.relpath(path, os.path.join(REPO, "luigi"))
               for path in _compiled.declaration_files(os.path.join(REPO, "luigi"))}
    assert shipped and all(('"*.pxd"' if os.sep not in path else f'"{os.path.dirname(path)}/*.pxd"') in package_data
                           for path in shipped)
    if os.environ.get("LUIGI_EXPECT_COMPILED") == "1":
        rebuilt = subprocess.run([sys.executable, "-m", "luigi.build_accel"], capture_output=True, text=True,
                                 cwd=REPO, check=True)
        assert rebuilt.stdout.startswith("build_accel: 0 of "), rebuilt.stdout


def test_the_build_command_without_cython_says_so_and_fails(tmp_path):
    shutil.copytree(os.path.join(REPO, "luigi"), tmp_path / "luigi", ignore=shutil.ignore_patterns("_accel", "__pycache__"))
    code = ("import sys; sys.modules['Cython'] = None; sys.argv = ['build_accel']\n"
            "from luigi.build_accel import main\n"
            "raise SystemExit(main())\n")
    env = {k: v for k, v in os.environ.items() if k != _compiled.PURE_ENV}
    env["PYTHONPATH"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert out.returncode == 1
    assert "Cython 3 is not installed (pip install 'luigi[accel]')" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "luigi" / "_accel").exists()
