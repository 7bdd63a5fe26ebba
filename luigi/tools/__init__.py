"""Command-line tools shipped with luigi: range tasks, ``luigi-deps``, ``luigi-deps-tree``, ``luigi-grep``."""
