"""The SQLite state store against the persistence contract (drain_changes / to_record / restore)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from luigi._store import SqliteStateStore, store_path_for


class Rec:
    def __init__(self, rid, **fields):
        self.id = rid
        self.fields = fields
        self.tasks = set()

    def to_record(self):
        return {"id": self.id, **self.fields}


class FakeState:
    """Implements exactly the scheduler side of the persistence contract."""

    def __init__(self):
        self._tasks = {}
        self._active_workers = {}
        self.dirty_tasks, self.dirty_workers = set(), set()
        self.restored = None

    def put_task(self, tid, **fields):
        self._tasks[tid] = Rec(tid, **fields)
        self.dirty_tasks.add(tid)

    def drop_task(self, tid):
        del self._tasks[tid]
        self.dirty_tasks.add(tid)

    def put_worker(self, wid, **fields):
        self._active_workers[wid] = Rec(wid, **fields)
        self.dirty_workers.add(wid)

    def drain_changes(self):
        out = (self.dirty_tasks, self.dirty_workers)
        self.dirty_tasks, self.dirty_workers = set(), set()
        return out

    def restore(self, task_records, worker_records, task_batchers=None):
        self.restored = (task_records, worker_records)


def test_store_path_keeps_pickle_free():
    assert store_path_for("/var/lib/luigi-server/state.pickle") == "/var/lib/luigi-server/state.db"
    assert store_path_for("/x/state.sqlite") == "/x/state.sqlite"


def test_flush_writes_only_changes_and_restore_round_trips(tmp_path):
    path = str(tmp_path / "s.db")
    state = FakeState()
    store = SqliteStateStore(path)
    assert store.is_empty()
    state.put_task("A", status="DONE")
    state.put_task("B", status="FAILED", failures=[1.5, 2.5])
    state.put_worker("W", last_active=3.0)
    assert store.flush(state) == 3
    assert store.flush(state) == 0  # nothing changed since
    state.put_task("B", status="DISABLED", failures=[1.5, 2.5, 3.5])
    state.drop_task("A")
    assert store.flush(state) == 2
    store.close()

    reopened = SqliteStateStore(path)
    fresh = FakeState()
    assert reopened.load_into(fresh) == 1
    tasks, workers = fresh.restored
    assert tasks == [{"id": "B", "status": "DISABLED", "failures": [1.5, 2.5, 3.5]}]
    assert workers == [{"id": "W", "last_active": 3.0, "tasks": []}]
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_failed_write_keeps_ids_pending(tmp_path):
    state = FakeState()
    store = SqliteStateStore(str(tmp_path / "s.db"))
    state.put_task("A", status="DONE")
    state._tasks["A"].to_record = lambda: {"bad": object()}  # not JSON-able
    with pytest.raises(TypeError):
        store.flush(state)
    assert store.records() == ([], [])
    state._tasks["A"] = Rec("A", status="DONE")  # repaired; no new change reported by the state
    assert store.flush(state) == 1
    assert store.records()[0] == [{"id": "A", "status": "DONE"}]


def test_mark_all_writes_everything(tmp_path):
    state = FakeState()
    state.put_task("A", status="PENDING")
    state.put_worker("W")
    state.drain_changes()
    store = SqliteStateStore(str(tmp_path / "s.db"))
    store.mark_all(state)
    assert store.flush(state) == 2


def test_refuses_newer_schema(tmp_path):
    path = str(tmp_path / "s.db")
    SqliteStateStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(RuntimeError, match="schema version 99"):
        SqliteStateStore(path)


def test_committed_rows_survive_sigkill(tmp_path):
    """A process killed with SIGKILL right after a flush loses nothing it flushed."""
    path = tmp_path / "s.db"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from luigi._store import SqliteStateStore
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_store_sqlite import FakeState
        state = FakeState()
        store = SqliteStateStore({str(path)!r})
        for i in range(500):
            state.put_task(f"T{{i}}", status="DONE")
        store.flush(state)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=root, env={**os.environ, "PYTHONPATH": root})
    assert proc.returncode == -signal.SIGKILL
    tasks, _ = SqliteStateStore(str(path)).records()
    assert len(tasks) == 500


def test_worker_rows_are_throttled_but_new_workers_written_at_once(tmp_path):
    state = FakeState()
    store = SqliteStateStore(str(tmp_path / "s.db"), worker_interval=3600)
    state.put_worker("W", last_active=1.0)
    store.flush(state)
    state.put_worker("W", last_active=2.0)  # a ping: not worth a write per request
    state.put_worker("V", last_active=2.0)  # a new worker: written at once
    store.flush(state)
    assert sorted(r["last_active"] for r in store.records()[1]) == [1.0, 2.0]
    store.flush_all(state)  # shutdown writes everything
    assert [r["last_active"] for r in store.records()[1]] == [2.0, 2.0]


def test_restore_rebuilds_worker_tasks_from_task_rows(tmp_path):
    state = FakeState()
    store = SqliteStateStore(str(tmp_path / "s.db"))
    state.put_worker("W")
    state.put_task("A", workers=["W", "X"])
    state.put_task("B", workers=["W"])
    store.flush(state)
    fresh = FakeState()
    store.load_into(fresh)
    workers = {r["id"]: r for r in fresh.restored[1]}
    assert workers["W"]["tasks"] == ["A", "B"]
    assert workers["X"]["tasks"] == ["A"]  # never had a row: recreated from the task rows
    assert workers["X"]["disabled"] is False


def test_real_scheduler_round_trip_with_batchers(tmp_path):
    from luigi.scheduler import Scheduler

    sch = Scheduler(retry_count=2)
    store = SqliteStateStore(str(tmp_path / "s.db"))
    sch.add_task_batcher(worker="W", task_family="B", batched_args=["d"], max_batch_size=float("inf"))
    sch.add_task(worker="W", task_id="A", family="A", params={"x": "1"}, priority=4)
    sch.add_task(worker="W", task_id="F", family="F")
    sch.add_task(worker="W", task_id="F", status="FAILED", expl='"e"')
    store.flush(sch._state)
    store.save_settings({"batchers": sch._state._task_batchers})
    store.close()

    again = Scheduler(retry_count=2)
    SqliteStateStore(str(tmp_path / "s.db")).load_into(again._state)
    assert again._state.get_batcher("W", "B") == (["d"], float("inf"))
    assert again.task_list("PENDING", "")["A"]["priority"] == 4
    assert again.get_work(worker="W")["task_id"] == "A"
    again.add_task(worker="W", task_id="F", status="FAILED", expl='"e"')  # second failure: disabled
    assert list(again.task_list("DISABLED", "")) == ["F"]


def _rows_in_main_file(path, copy):
    """Task ids in the database file itself, ignoring its WAL (i.e. what has been checkpointed)."""
    import shutil

    shutil.copyfile(path, copy)
    conn = sqlite3.connect(copy)
    try:
        return {row[0] for row in conn.execute("SELECT id FROM tasks")}
    except sqlite3.OperationalError:  # table not checkpointed yet
        return set()
    finally:
        conn.close()


def test_wal_is_checkpointed_in_the_background_and_removed_at_close(tmp_path):
    import time

    path = str(tmp_path / "s.db")
    state = FakeState()
    store = SqliteStateStore(path)
    assert store._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0  # never on the event loop
    state.put_task("A", status="DONE")
    store.flush(state)
    deadline = time.monotonic() + 30
    while "A" not in _rows_in_main_file(path, str(tmp_path / "copy.db")):
        assert time.monotonic() < deadline, "background checkpoint never copied the WAL into the database"
        time.sleep(0.1)
    store.close()
    assert not os.path.exists(path + "-wal")
    assert SqliteStateStore(path).records()[0] == [{"id": "A", "status": "DONE"}]


def test_writing_a_task_leaves_its_unused_containers_unallocated(tmp_path):
    """The store serialises every task it writes; that must not grow the tasks it keeps in memory."""
    import tracemalloc

    from luigi.scheduler import Scheduler

    sch = Scheduler()
    store = SqliteStateStore(str(tmp_path / "s.db"))
    store.flush(sch._state)
    n = 5000  # enough for the interpreter's free lists (tuples, dicts) not to matter
    for i in range(n):
        sch.add_task(worker="W", task_id=f"T{i}", status="PENDING")
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        store.flush(sch._state)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept / n < 300  # an empty failures deque and message dict left per task: ~820 B more
    sch.add_task(worker="W", task_id="T0", status="FAILED")
    store.flush(sch._state)
    assert len(sch._state.get_task("T0").failures) == 1  # a used container is kept
    assert [r for r in store.records()[0] if r["id"] == "T0"][0]["failures"]
