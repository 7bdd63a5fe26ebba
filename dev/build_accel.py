#!/usr/bin/env python3
"""Compile the hot modules of this checkout into ``luigi/_accel/`` (``luigi/build_accel.py`` does
the work; this entry point only puts the checkout first on the path).

Usage: python dev/build_accel.py [--clean]
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from luigi.build_accel import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
