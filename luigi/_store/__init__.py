"""Durable scheduler state for ``luigid``: SQLite (WAL) rows kept in step with the in-memory scheduler.

See :mod:`luigi._store.sqlite` for the storage and the "Scheduler persistence contract" in
docs/ARCHITECTURE.md for what the scheduler provides."""

from luigi._store.sqlite import SqliteStateStore, store_path_for

__all__ = ["SqliteStateStore", "store_path_for"]
