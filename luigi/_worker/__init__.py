"""Private machinery behind :mod:`luigi.worker` (result transport, process-tree handling,
parallel completeness checks). Nothing here is public API; ``luigi.worker`` re-exports what
user code may touch."""
