"""Time source for scheduler records.

Luigi users patch ``time.time`` (globally or as ``luigi.scheduler.time``) to simulate the passage
of time, so the clock is looked up at call time through the public module when it is loaded.
"""

from __future__ import annotations

import sys
import time
from typing import Callable

Clock = Callable[[], float]


def now() -> float:
    """Current wall-clock time, honouring a patched ``luigi.scheduler.time``."""
    module = sys.modules.get("luigi.scheduler")
    source = getattr(module, "time", time) if module is not None else time
    return source.time()
