"""Fixtures for the command-line tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import RETCODES_CFG


@pytest.fixture
def retcodes_cfg(tmp_path: Path) -> Path:
    """A luigi.cfg in the test's directory with distinct exit codes per outcome."""
    cfg = tmp_path / "luigi.cfg"
    cfg.write_text(RETCODES_CFG + "\n[core]\nautoload_range = true\n")
    return cfg
