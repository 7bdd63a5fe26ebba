"""Run code under real Luigi 3.8.1, installed into its own virtualenv, for side-by-side benchmarks.

The virtualenv ``bench/.venv-realluigi`` is created on first use (``pip install luigi==3.8.1``) and
reused afterwards. Code runs in a subprocess whose working directory is a fresh temporary
directory, so neither this checkout's ``luigi`` package nor a stray ``luigi.cfg`` is picked up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

REAL_LUIGI_VERSION = "3.8.1"
VENV_DIR = Path(__file__).resolve().parent / ".venv-realluigi"
REPO_DIR = Path(__file__).resolve().parent.parent


def _venv_python() -> Path:
    return VENV_DIR / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _clean_env(extra_path: str | None = None) -> dict[str, str]:
    """The current environment without Luigi config/path overrides (optionally adding one path)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LUIGI_CONFIG_PATH", "LUIGI_CONFIG_PARSER")}
    if extra_path:
        env["PYTHONPATH"] = extra_path
    return env


def _installed_version(python: Path) -> str | None:
    result = subprocess.run(
        [str(python), "-c", "import luigi; print(luigi.__version__)"],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
        env=_clean_env(),
    )
    return result.stdout.strip() if result.returncode == 0 else None


def real_luigi_python() -> Path:
    """Path of a Python interpreter with real Luigi 3.8.1 importable (creating the venv if needed)."""
    python = _venv_python()
    if python.exists() and _installed_version(python) == REAL_LUIGI_VERSION:
        return python
    print(f"Installing real Luigi {REAL_LUIGI_VERSION} into {VENV_DIR} ...", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=python.exists()).create(VENV_DIR)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"luigi=={REAL_LUIGI_VERSION}"],
        check=True,
        env=_clean_env(),
    )
    return python


def run_python(python: Path | str, code: str, extra_path: str | None = None) -> str:
    """Run ``code`` with ``python`` in a fresh temporary directory; return its stdout."""
    with tempfile.TemporaryDirectory() as cwd:
        result = subprocess.run(
            [str(python), "-c", code], capture_output=True, text=True, cwd=cwd, env=_clean_env(extra_path)
        )
    if result.returncode != 0:
        raise RuntimeError(f"{python} failed:\n{result.stderr}")
    return result.stdout


def run_real_luigi(code: str) -> str:
    """Run ``code`` under real Luigi 3.8.1; return its stdout."""
    return run_python(real_luigi_python(), code)


def run_ours(code: str) -> str:
    """Run ``code`` under this checkout's ``luigi`` (same interpreter as the caller); return its stdout."""
    return run_python(sys.executable, code, extra_path=str(REPO_DIR))
