"""Placeholder: this module is being written; see docs/ARCHITECTURE.md for its owner."""
