#!/usr/bin/env python3
"""Create .venv (if needed), install the project with its test extras, run ruff and the test suite.

Usage: python3 dev/run_tests.py [pytest args...]
Needs only python3 on the machine; everything else comes from the package index.

The suite runs twice: against the compiled build of the hot modules (``dev/build_accel.py``,
skipped with a warning when no C compiler is available) and in plain Python
(``LUIGI_PURE_PYTHON=1``), the way ``python3 -m luigi`` runs from a bare checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"


def sh(*cmd: str | os.PathLike[str]) -> None:
    print("+", " ".join(map(str, cmd)), flush=True)
    subprocess.run([str(c) for c in cmd], cwd=ROOT, check=True)


def main() -> int:
    if not PY.exists():
        sh(sys.executable, "-m", "venv", VENV)
    stamp = VENV / ".installed"
    if not stamp.exists() or stamp.stat().st_mtime < (ROOT / "pyproject.toml").stat().st_mtime:
        sh(PY, "-m", "pip", "install", "-q", "--upgrade", "pip")
        sh(PY, "-m", "pip", "install", "-q", "-e", ".[test,toml,accel]")
        stamp.touch()
    sh(PY, "-m", "ruff", "check", "luigi", "tests", "bench", "examples", "dev")
    compiled = subprocess.run([str(PY), "dev/build_accel.py"], cwd=ROOT).returncode == 0
    if not compiled:
        print("run_tests: the compiled build failed; testing plain Python only", flush=True)
    args = sys.argv[1:] or ["-n", "2", "--dist", "loadfile", "-q"]
    modes = [("compiled", {"LUIGI_EXPECT_COMPILED": "1"})] if compiled else []
    modes.append(("plain Python", {"LUIGI_PURE_PYTHON": "1"}))
    failed = 0
    for mode, env in modes:
        print(f"run_tests: pytest ({mode})", flush=True)
        failed |= subprocess.run([str(PY), "-m", "pytest", *args], cwd=ROOT, env={**os.environ, **env}).returncode
    return failed


if __name__ == "__main__":
    sys.exit(main())
