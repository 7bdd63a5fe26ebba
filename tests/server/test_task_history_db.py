"""DbTaskHistory on SQLite (and the history pages that read it)."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import urllib.parse

import pytest
from luigid_helpers import http_call

from luigi import configuration


@pytest.fixture
def history_db(tmp_path):
    path = tmp_path / "history.db"
    config = configuration.get_config()
    config.set("scheduler", "record_task_history", "true")
    config.set("task_history", "db_connection", f"sqlite:///{path}")
    return path


def run_one_task(sch, task_id="Fam(p=1)", params=None):
    sch.add_task(worker="W", task_id=task_id, family="Fam", params=params or {"p": "1", "q": "x"}, status="PENDING")
    assert sch.get_work(worker="W", host="build-host")["task_id"] == task_id
    sch.add_task(worker="W", task_id=task_id, status="DONE")


def test_scheduler_records_events_in_one_row_per_task(history_db):
    from luigi.db_task_history import DbTaskHistory, TaskRecord
    from luigi.scheduler import Scheduler

    sch = Scheduler()
    assert isinstance(sch.task_history, DbTaskHistory)
    assert sch.has_task_history() is True
    run_one_task(sch)
    history = sch.task_history
    with history._session() as session:
        (record,) = session.query(TaskRecord).all()
        assert (record.name, record.host, record.task_id) == ("Fam", "build-host", "Fam(p=1)")
        assert {k: v.value for k, v in record.parameters.items()} == {"p": "1", "q": "x"}
        assert [e.event_name for e in record.events] == ["DONE", "RUNNING", "PENDING"]
    assert [r.name for r in history.find_all_by_parameters("Fam", p="1")] == ["Fam"]
    assert list(history.find_all_by_parameters("Fam", p="2")) == []
    assert history.find_task_by_task_id("Fam(p=1)").id == record.id
    with pytest.raises(IndexError):
        history.find_task_by_task_id("nope")
    assert len(history.find_latest_runs()) >= 1
    assert len(history.find_all_events()) == 3
    assert repr(record) == "TaskRecord(name=Fam, host=build-host)"


def test_upgrade_schema_adds_task_id_column(history_db, caplog):
    conn = sqlite3.connect(history_db)
    conn.execute("CREATE TABLE tasks (id INTEGER PRIMARY KEY, name VARCHAR(128), host VARCHAR(128))")
    conn.execute("CREATE TABLE task_parameters (task_id INTEGER, name VARCHAR(128), value VARCHAR(256), "
                 "PRIMARY KEY (task_id, name))")
    conn.commit()
    conn.close()
    caplog.set_level(logging.WARNING, logger="luigi-interface")
    from luigi.db_task_history import DbTaskHistory

    DbTaskHistory()
    messages = [r.getMessage() for r in caplog.records]
    assert "Upgrading DbTaskHistory schema: Adding tasks.task_id" in messages
    assert "SQLite can not change column types. Please use a new database to pickup column type changes." in messages
    columns = [row[1] for row in sqlite3.connect(history_db).execute("PRAGMA table_info(tasks)")]
    assert "task_id" in columns


def test_history_pages(history_db, make_server):
    from luigi.scheduler import Scheduler

    srv = make_server(Scheduler())
    srv.call_in_loop(lambda: run_one_task(srv.scheduler, "Fam(p=<b>)", {"p": "<b>"}))
    status, page, _ = http_call(srv.port, "/history", method="GET")
    assert status == 200
    assert "Luigi Task History" in page and 'href="./history/by_id/1"' in page
    assert "p=&lt;b&gt;" in page and "<b>" not in page  # parameter values are HTML-escaped
    status, page, _ = http_call(srv.port, "/history/by_id/1", method="GET")
    assert status == 200 and "build-host" in page and 'href="../../history/by_name/Fam"' in page
    assert page.index(">DONE<") < page.index(">RUNNING<") < page.index(">PENDING<")
    assert http_call(srv.port, "/history/by_task_id/" + urllib.parse.quote("Fam(p=<b>)"), method="GET")[0] == 200
    assert "build-host" in http_call(srv.port, "/history/by_name/Fam", method="GET")[1]
    query = urllib.parse.urlencode({"data": json.dumps({"p": "<b>"})})
    assert "build-host" in http_call(srv.port, "/history/by_params/Fam", method="GET", query=query)[1]
    query = urllib.parse.urlencode({"data": json.dumps({"p": "other"})})
    assert "build-host" not in http_call(srv.port, "/history/by_params/Fam", method="GET", query=query)[1]
    status, page, _ = http_call(srv.port, "/tasklist", method="GET")
    assert status == 200 and "[ Task History ]" in page and "tasklist/Fam" in page
    status, page, _ = http_call(srv.port, "/tasklist/Fam", method="GET")
    assert status == 200 and "Fam History" in page
    assert json.loads(page.split('id="taskResults" type="application/json">')[1].split("</script>")[0])[0][
        "status"] == "PENDING"
    for path in ("/history/by_id/99", "/history/by_id/abc", "/history/by_task_id/nope"):
        status, body, _ = http_call(srv.port, path, method="GET")
        assert status == 404, path
        assert "no task record" in body["error"]["message"]


def test_history_pages_404_when_history_is_off(make_server):
    srv = make_server()
    status, body, _ = http_call(srv.port, "/history", method="GET")
    assert status == 404
    assert "record_task_history" in body["error"]["message"]


def test_luigid_writes_history_off_the_event_loop(make_luigid, tmp_path):
    db = tmp_path / "history.db"
    config = f"[scheduler]\nrecord_task_history = true\n[task_history]\ndb_connection = sqlite:///{db}\n"
    luigid = make_luigid("--state-path", str(tmp_path / "state.db"), config=config).start()
    from luigi.rpc import RemoteScheduler

    sch = RemoteScheduler(luigid.url)
    run_one_task(sch, "A(p=1)")
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # the history database is locked, e.g. by a long report
    try:
        started = time.monotonic()
        run_one_task(sch, "B(p=1)")  # three events to record while nobody can write
        elapsed = time.monotonic() - started
        assert sch.task_list("DONE", "")["B(p=1)"]["status"] == "DONE"
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    # a write on the event loop would hold each reply for SQLite's 5 s busy timeout
    assert elapsed < 3.0
    assert luigid.terminate() == 0  # a clean shutdown writes what is still queued
    rows = sqlite3.connect(db).execute(
        "SELECT t.task_id, t.name, t.host, e.event_name FROM task_events e JOIN tasks t ON t.id = e.task_id "
        "ORDER BY e.id").fetchall()
    assert rows == [(task_id, "Fam", "build-host", event) for task_id in ("A(p=1)", "B(p=1)")
                    for event in ("PENDING", "RUNNING", "DONE")]


def test_history_writer_keeps_order_survives_errors_and_bounds_its_queue(caplog):
    import threading

    from luigi.db_task_history import _BackgroundWriter

    writer = _BackgroundWriter(maxsize=2)
    stuck, gate = threading.Event(), threading.Event()
    done = []

    def stuck_database():
        stuck.set()
        gate.wait()

    def fail():
        raise RuntimeError("disk full")

    writer.submit(stuck_database)
    stuck.wait()
    writer.submit(done.append, 1)
    writer.submit(fail)
    threading.Timer(0.2, gate.set).start()
    writer.submit(done.append, 2)  # the queue is full: waits for the writer instead of growing
    writer.flush()
    assert done == [1, 2]
    messages = [(r.name, r.getMessage()) for r in caplog.records]
    assert ("luigi-interface", "Task history database is slow: 2 writes queued, recording waits for it") in messages
    assert ("luigi.scheduler", "Error saving Task history") in messages
    writer.submit(done.append, 3)
    writer.close()  # writes what is queued, then stops the thread
    assert done == [1, 2, 3]


def test_in_memory_history_database_is_written_synchronously(tmp_path):
    configuration.get_config().set("scheduler", "record_task_history", "true")
    configuration.get_config().set("task_history", "db_connection", "sqlite://")
    from luigi.scheduler import Scheduler

    sch = Scheduler()
    run_one_task(sch)
    assert sch.task_history._writer is None  # one database per connection: no other thread may write
    assert [e.event_name for e in sch.task_history.find_all_events()] == ["PENDING", "RUNNING", "DONE"]


def history_threads():
    import threading

    return [t for t in threading.enumerate() if t.name == "luigi-task-history"]


def test_history_writer_stops_with_its_history_and_writes_queued_events_at_exit(history_db, tmp_path):
    import gc
    import subprocess
    import sys

    from luigi.scheduler import Scheduler

    # Threads of schedulers made by earlier tests may end at any time (when they are collected):
    # follow this scheduler's own thread, not the count.
    before = set(history_threads())
    sch = Scheduler()
    run_one_task(sch)
    started = [thread for thread in history_threads() if thread not in before]
    assert len(started) == 1
    del sch
    gc.collect()
    started[0].join(10)
    assert not started[0].is_alive()

    script = (
        "import sys; sys.path.insert(0, sys.argv[2])\n"
        "from luigi import configuration\n"
        "configuration.get_config().set('scheduler', 'record_task_history', 'true')\n"
        "configuration.get_config().set('task_history', 'db_connection', 'sqlite:///' + sys.argv[1])\n"
        "from luigi.scheduler import Scheduler\n"
        "sch = Scheduler()\n"
        "for i in range(50): sch.add_task(worker='W', task_id=f'T{i}', family='T', status='PENDING')\n"
    )
    other_db = tmp_path / "exit.db"
    from luigid_helpers import ROOT

    subprocess.run([sys.executable, "-c", script, str(other_db), str(ROOT)], check=True, timeout=60)
    assert sqlite3.connect(other_db).execute("SELECT COUNT(*) FROM task_events").fetchone() == (50,)
