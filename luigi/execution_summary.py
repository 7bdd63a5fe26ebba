"""Placeholder: this module is being written; see docs/ARCHITECTURE.md for its owner."""

import enum


class LuigiStatusCode(enum.Enum):
    SUCCESS = (":)", "there were no failed tasks or missing dependencies")
