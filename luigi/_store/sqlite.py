"""SQLite-backed durable state for the central scheduler.

Luigi pickles its whole state only at clean shutdown, so a crash (``kill -9``, OOM, power loss of
the container) forgets every DONE task and every failure count. Here each task and worker record is
one row of JSON in an SQLite database in WAL mode. The server drains the scheduler's dirty sets
(``SimpleTaskState.drain_changes()``) and writes only the changed rows, in one transaction per batch;
the HTTP layer acknowledges a state-changing call only after the batch holding it has committed
(group commit), so whatever a worker was told is on disk.

Why ``synchronous=NORMAL`` (not ``FULL``) in WAL mode: a commit then appends the batch to the WAL file
with a ``write()`` but no ``fsync``; the WAL is fsynced only at checkpoints. Once ``write()`` returned,
the data is in the kernel's page cache, so it survives the death of luigid itself (``kill -9``, OOM
kill, a crash), which is the failure this store exists for; only a power loss or kernel crash can
drop the last commits, and even then the database is never corrupted (WAL frames are checksummed and
a torn tail is discarded). An fsync per commit would cap luigid at a few hundred commits a second on
ordinary disks and make every RPC wait for the device.

Worker rows are the exception to "written at once": a worker changes on every ping and
``get_work`` (``last_active``), and its record lists every task it may run, so rewriting it per
request would cost O(tasks of that worker) each time. A worker row is written when the worker is
new, and then at most every ``worker_interval`` seconds. Nothing important is lost with that: on
restore, each worker's runnable tasks are rebuilt from the task rows' ``workers`` lists (always
written at once), and a worker whose row was never written is recreated from them.

Why JSON rows and not pickle: loading a tampered pickle executes code, and pickles break across code
versions; a JSON record can be read by any version that knows the field names.
"""

from __future__ import annotations

import json
import logging
import operator
import os
import sqlite3
import threading
import time
from typing import Any, Callable

logger = logging.getLogger("luigi.server")

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS workers (id TEXT PRIMARY KEY, record TEXT NOT NULL);
"""


def store_path_for(state_path: str) -> str:
    """Where the SQLite database lives for ``[scheduler] state_path``.

    Luigi's default path ends in ``.pickle``; the database then sits next to it with a ``.db``
    suffix, so the pickle Luigi tools expect can still be written there at clean shutdown."""
    root, ext = os.path.splitext(state_path)
    return root + ".db" if ext == ".pickle" else state_path


class SqliteStateStore:
    """Task and worker records of one scheduler, one JSON row each.

    Not thread-safe: the server uses it from its event-loop thread only."""

    def __init__(self, path: str, worker_interval: float = 1.0) -> None:
        self.path = path
        self.worker_interval = worker_interval
        self._worker_written: dict[str, float] = {}
        self._saved_settings: dict[str, str] = {}
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA wal_autocheckpoint=0")  # see _Checkpointer
        self._conn.executescript(_SCHEMA)
        self._check_version()
        self._pending_tasks: set[str] = set()
        self._pending_workers: set[str] = set()
        self._checkpointer = _Checkpointer(path)
        self._checkpointer.start()

    def _check_version(self) -> None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            self._conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) > SCHEMA_VERSION:
            raise RuntimeError(
                f"State database {self.path} has schema version {row[0]}, newer than this luigid "
                f"understands ({SCHEMA_VERSION}); refusing to overwrite it"
            )

    def is_empty(self) -> bool:
        """True when no task or worker has ever been stored."""
        return not any(
            self._conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() for table in ("tasks", "workers")
        )

    def records(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """All stored (task records, worker records)."""
        tasks = [json.loads(r) for (r,) in self._conn.execute("SELECT record FROM tasks")]
        workers = [json.loads(r) for (r,) in self._conn.execute("SELECT record FROM workers")]
        return tasks, workers

    def load_into(self, state: Any) -> int:
        """Rebuild ``state`` (a ``SimpleTaskState``) from the stored rows; returns the task count."""
        tasks, workers = self.records()
        workers = _with_runnable_tasks(tasks, workers)
        batchers = {w: {f: tuple(v) for f, v in fams.items()} for w, fams in self.settings().get("batchers", {}).items()}
        state.restore(tasks, workers, batchers)
        now = time.monotonic()
        self._worker_written = {record["id"]: now for record in workers}
        logger.info("Restored %d tasks and %d workers from %s", len(tasks), len(workers), self.path)
        return len(tasks)

    def settings(self) -> dict[str, Any]:
        """Scheduler-wide values saved with :meth:`save_settings` (e.g. ``paused``, ``batchers``)."""
        rows = self._conn.execute("SELECT key, value FROM meta WHERE key LIKE 'setting:%'")
        return {key[len("setting:"):]: json.loads(value) for key, value in rows}

    def save_settings(self, settings: dict[str, Any]) -> None:
        """Write the values of ``settings`` that differ from what was last saved (cheap when unchanged)."""
        changed = []
        for key, value in settings.items():
            text = json.dumps(value, sort_keys=True)
            if self._saved_settings.get(key) != text:
                changed.append((f"setting:{key}", text))
                self._saved_settings[key] = text
        if changed:
            self._conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", changed)

    def mark_all(self, state: Any) -> None:
        """Schedule every task and worker of ``state`` for writing (e.g. after importing a pickle)."""
        self._pending_tasks.update(state._tasks)
        self._pending_workers.update(state._active_workers)

    def collect(self, state: Any) -> bool:
        """Take the ids ``state`` changed since the last call (``drain_changes``) into the pending
        sets; returns whether any task row is waiting to be written.

        Cheap (two small sets swapped), so the server calls it after every request to decide whether
        the reply must wait for a commit."""
        task_ids, worker_ids = state.drain_changes()
        if task_ids:
            self._pending_tasks.update(task_ids)
        if worker_ids:
            self._pending_workers.update(worker_ids)
        return bool(self._pending_tasks)

    def flush(self, state: Any) -> int:
        """Write every task/worker changed since the last flush; returns the number of rows touched.

        Ids that failed to be written (e.g. disk full) stay pending and are retried next time."""
        self.collect(state)
        if not self._pending_tasks and not self._pending_workers:
            return 0
        due_workers = self._due_workers(state)
        task_rows, task_gone = _split(self._pending_tasks, state._tasks, _TO_RECORD)
        worker_rows, worker_gone = _split(due_workers, state._active_workers, _worker_record)
        if not (task_rows or task_gone or worker_rows or worker_gone):
            return 0  # only workers not yet due (pings): no empty transaction
        conn = self._conn
        conn.execute("BEGIN")
        try:
            conn.executemany("INSERT OR REPLACE INTO tasks VALUES (?, ?)", task_rows)
            conn.executemany("DELETE FROM tasks WHERE id = ?", task_gone)
            conn.executemany("INSERT OR REPLACE INTO workers VALUES (?, ?)", worker_rows)
            conn.executemany("DELETE FROM workers WHERE id = ?", worker_gone)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        touched = len(self._pending_tasks) + len(due_workers)
        self._pending_tasks.clear()
        self._pending_workers -= due_workers
        now = time.monotonic()
        for worker_id, _record in worker_rows:
            self._worker_written[worker_id] = now
        for (worker_id,) in worker_gone:
            self._worker_written.pop(worker_id, None)
        return touched

    def _due_workers(self, state: Any) -> set[str]:
        """Pending workers to write now: new, removed, or last written ``worker_interval`` ago."""
        horizon = time.monotonic() - self.worker_interval
        written = self._worker_written
        return {
            worker_id for worker_id in self._pending_workers
            if worker_id not in written or worker_id not in state._active_workers or written[worker_id] <= horizon
        }

    def flush_all(self, state: Any) -> int:
        """Flush, including workers whose interval has not passed (shutdown)."""
        self._worker_written.clear()
        return self.flush(state)

    def close(self) -> None:
        self._checkpointer.stop()
        self._conn.close()


class _Checkpointer(threading.Thread):
    """Copies the WAL back into the database from a thread of its own, every ``interval`` seconds.

    SQLite's automatic checkpoint runs inside whichever commit crosses 1,000 WAL pages, i.e. on
    luigid's event loop, and it fsyncs the WAL and the database: every second or so one RPC (and
    everything queued behind it) waited for the disk, which dominated the p99 latency. A PASSIVE
    checkpoint on a separate connection runs concurrently with commits (``sqlite3`` releases the GIL
    while it works) and never blocks them; it only copies what no reader still needs, and the
    final checkpoint happens when the store's connection closes."""

    def __init__(self, path: str, interval: float = 1.0) -> None:
        super().__init__(name="luigid-wal-checkpoint", daemon=True)
        self._path = path
        self._interval = interval
        self._stopping = threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stopping.wait(self._interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as e:
                    logger.warning("WAL checkpoint of %s failed: %s", self._path, e)
        finally:
            conn.close()

    def stop(self) -> None:
        self._stopping.set()
        self.join()


def _with_runnable_tasks(tasks: list[dict[str, Any]], workers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Worker records whose ``tasks`` include every task listing the worker in its ``workers``;
    workers known only from task rows get a fresh record."""
    runnable: dict[str, set[str]] = {}
    for task in tasks:
        for worker_id in task.get("workers", ()):
            runnable.setdefault(worker_id, set()).add(task["id"])
    records = []
    for record in workers:
        ids = runnable.pop(record["id"], set())
        records.append({**record, "tasks": sorted(ids.union(record.get("tasks", ())))})
    if runnable:
        from luigi.scheduler import Worker

        for worker_id, ids in runnable.items():
            records.append({**Worker(worker_id).to_record(), "tasks": sorted(ids)})
    return records


_TO_RECORD = operator.methodcaller("to_record")  # leaves the lazily allocated parts of a record alone


def _worker_record(worker: Any) -> dict[str, Any]:
    """``worker.to_record()`` without its ``tasks`` list, which is O(tasks of the worker) to build
    and is rebuilt from the task rows on restore anyway (see :func:`_with_runnable_tasks`)."""
    tasks = worker.tasks
    worker.tasks = ()
    try:
        return worker.to_record()
    finally:
        worker.tasks = tasks


def _split(
    ids: set[str], live: dict[str, Any], to_record: Callable[[Any], dict[str, Any]]
) -> tuple[list[tuple[str, str]], list[tuple[str]]]:
    """Rows to upsert for ids still present in ``live`` and ids to delete for the others."""
    upserts: list[tuple[str, str]] = []
    deletes: list[tuple[str]] = []
    for obj_id in ids:
        obj = live.get(obj_id)
        if obj is None:
            deletes.append((obj_id,))
        else:
            upserts.append((obj_id, json.dumps(to_record(obj), separators=(",", ":"))))
    return upserts, deletes
