"""Helpers for the command-line tests: run ``python -m luigi`` in a real subprocess.

(A uniquely named module: ``conftest`` names collide between test directories.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLI_TASKS_DIR = Path(__file__).resolve().parent

RETCODES_CFG = """
[retcode]
already_running = 10
missing_data = 20
not_run = 25
task_failed = 30
scheduling_error = 35
unhandled_exception = 40
"""


def luigi_env(cwd: Path) -> dict:
    """Environment for a child luigi: repo and the test task module on the path, cwd's luigi.cfg only."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(CLI_TASKS_DIR), str(cwd)])
    env.pop("LUIGI_CONFIG_PATH", None)
    env.pop("LUIGI_CONFIG_PARSER", None)
    return env


def luigi_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "luigi", *args]


def run_luigi(*args: str, cwd: Path, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m luigi ARGS`` to completion, capturing text output."""
    return subprocess.run(
        luigi_command(*args), cwd=cwd, env=luigi_env(cwd), input=stdin, capture_output=True, text=True, timeout=timeout
    )
