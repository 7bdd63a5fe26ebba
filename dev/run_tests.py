#!/usr/bin/env python3
"""Create .venv (if needed), install the project with its test extras, run ruff and the test suite.

Usage: python3 dev/run_tests.py [pytest args...]
Needs only python3 on the machine; everything else comes from the package index.
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
        sh(PY, "-m", "pip", "install", "-q", "-e", ".[test,toml]")
        stamp.touch()
    sh(PY, "-m", "ruff", "check", "luigi", "tests", "bench", "examples", "dev")
    args = sys.argv[1:] or ["-n", "2", "--dist", "loadfile", "-q"]
    return subprocess.run([str(PY), "-m", "pytest", *args], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
