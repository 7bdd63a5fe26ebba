"""Task history in a relational database through SQLAlchemy (SQLite by default, PostgreSQL by URL).

Enable with::

    [scheduler]
    record_task_history = True

    [task_history]
    db_connection = sqlite:////usr/local/var/luigi-task-hist.db

The scheduler calls :meth:`DbTaskHistory.task_scheduled`, :meth:`task_started` and
:meth:`task_finished`; each appends one row to ``task_events`` for the ``tasks`` row of that task id
(created at its first event in this server's lifetime, with its parameters and host). The history
pages of :mod:`luigi.server` read it back with the ``find_*`` methods.

Writes happen on a background thread. Luigi writes each event inside the RPC call that caused
it, i.e. on luigid's event loop, so a slow or locked history database stalls every worker's
requests. Here the three recording methods take the event's timestamp and queue the write; one
writer thread (see :class:`_BackgroundWriter`) applies the writes in order, so each task's events
keep their order and all events of a task id still go to one ``tasks`` row. Reads (``_session()``
without a session and the ``find_*`` methods) first wait for the queued writes, so whoever records
an event and then reads sees it, as with Luigi. :meth:`DbTaskHistory.close` (called by luigid at
shutdown, at interpreter exit, and when the history object is garbage) writes what is still queued
and stops the thread. An in-memory SQLite database
(``sqlite://``) is per connection, hence per thread: it is written synchronously.

Other differences from Luigi: ``find_task_by_task_id`` asks the database for the newest row only
and ``_upgrade_schema`` commits its DDL.
"""

from __future__ import annotations

import datetime
import logging
import os
import queue
import threading
import weakref
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import sqlalchemy
import sqlalchemy.orm
from sqlalchemy.orm.collections import attribute_keyed_dict

from luigi import configuration, task_history
from luigi.task_status import DONE, FAILED, PENDING, RUNNING

logger = logging.getLogger("luigi-interface")
_scheduler_logger = logging.getLogger("luigi.scheduler")  # where Luigi logs failed history writes

Base = sqlalchemy.orm.declarative_base()


class DbTaskHistory(task_history.TaskHistory):
    """Task history recorded through SQLAlchemy (``[task_history] db_connection``)."""

    CURRENT_SOURCE_VERSION = 1

    @contextmanager
    def _session(self, session: sqlalchemy.orm.Session | None = None) -> Iterator[sqlalchemy.orm.Session]:
        """Yield ``session`` untouched, or a new one committed on success and rolled back on error.

        New sessions are left open (as in Luigi) so records returned by the ``find_*`` methods can
        still load their lazy ``events``/``parameters``."""
        if session:
            yield session
            return
        writer = self._writer
        if writer is not None and not writer.is_current_thread():
            writer.flush()  # a reader sees every event recorded before it asked
        session = self.session_factory()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        else:
            session.commit()

    def __init__(self) -> None:
        config = configuration.get_config()
        connection_string = config.get("task_history", "db_connection")
        self.engine = sqlalchemy.create_engine(connection_string)
        self.session_factory = sqlalchemy.orm.sessionmaker(bind=self.engine, expire_on_commit=False)
        Base.metadata.create_all(self.engine)
        self.tasks: dict[str, task_history.StoredTask] = {}
        _upgrade_schema(self.engine)
        self._writer = None if _is_in_memory(self.engine) else _BackgroundWriter()
        if self._writer is not None:  # queued events are written at exit, or once this is unused
            weakref.finalize(self, self._writer.close)

    def task_scheduled(self, task: Any) -> None:
        htask = self._get_task(task, status=PENDING)
        self._record(htask, TaskEvent(event_name=PENDING, ts=datetime.datetime.now()))

    def task_finished(self, task: Any, successful: bool) -> None:
        event_name = DONE if successful else FAILED
        htask = self._get_task(task, status=event_name)
        self._record(htask, TaskEvent(event_name=event_name, ts=datetime.datetime.now()))

    def task_started(self, task: Any, worker_host: str) -> None:
        htask = self._get_task(task, status=RUNNING, host=worker_host)
        self._record(htask, TaskEvent(event_name=RUNNING, ts=datetime.datetime.now()))

    def close(self) -> None:
        """Write every queued event and stop the writer thread (luigid calls this at shutdown)."""
        if self._writer is not None:
            self._writer.close()

    def _record(self, htask: task_history.StoredTask, event: TaskEvent) -> None:
        if self._writer is None:
            self._add_task_event(htask, event)
        else:
            self._writer.submit(self._add_task_event, htask, event)

    def _get_task(self, task: Any, status: str, host: str | None = None) -> task_history.StoredTask:
        if task.id in self.tasks:
            htask = self.tasks[task.id]
            htask.status = status
            if host:
                htask.host = host
        else:
            htask = self.tasks[task.id] = task_history.StoredTask(task, status, host)
        return htask

    def _add_task_event(self, task: task_history.StoredTask, event: TaskEvent) -> None:
        for task_record, _session in self._find_or_create_task(task):
            task_record.events.append(event)

    def _find_or_create_task(self, task: task_history.StoredTask) -> Iterator[tuple[TaskRecord, Any]]:
        with self._session() as session:
            if task.record_id is not None:
                logger.debug("Finding task with record_id [%d]", task.record_id)
                task_record = session.get(TaskRecord, task.record_id)
                if not task_record:
                    raise Exception("Task with record_id, but no matching Task record!")
                yield (task_record, session)
            else:
                task_record = TaskRecord(task_id=task._task.id, name=task.task_family, host=task.host)
                for k, v in task.parameters.items():
                    task_record.parameters[k] = TaskParameter(name=k, value=v)
                session.add(task_record)
                yield (task_record, session)
            if task.host:
                task_record.host = task.host
        task.record_id = task_record.id

    def find_all_by_parameters(
        self, task_name: str, session: sqlalchemy.orm.Session | None = None, **task_params: Any
    ) -> Iterator[TaskRecord]:
        """Records named ``task_name`` having every given parameter value, oldest event first."""
        with self._session(session) as session:
            query = session.query(TaskRecord).join(TaskEvent).filter(TaskRecord.name == task_name)
            for k, v in task_params.items():
                alias = sqlalchemy.orm.aliased(TaskParameter)
                query = query.join(alias).filter(alias.name == k, alias.value == v)
            tasks = query.order_by(TaskEvent.ts)
            for task in tasks:
                assert all(k in task.parameters and v == str(task.parameters[k].value) for k, v in task_params.items())
                yield task

    def find_all_by_name(self, task_name: str, session: sqlalchemy.orm.Session | None = None) -> Iterator[TaskRecord]:
        return self.find_all_by_parameters(task_name, session)

    def find_latest_runs(self, session: sqlalchemy.orm.Session | None = None) -> list[TaskRecord]:
        """Records with an event in the last 24 hours, newest activity first."""
        with self._session(session) as session:
            yesterday = datetime.datetime.now() - datetime.timedelta(days=1)
            return (
                session.query(TaskRecord)
                .join(TaskEvent)
                .filter(TaskEvent.ts >= yesterday)
                .group_by(TaskRecord.id, TaskEvent.event_name, TaskEvent.ts)
                .order_by(TaskEvent.ts.desc())
                .all()
            )

    def find_all_runs(self, session: sqlalchemy.orm.Session | None = None) -> list[TaskRecord]:
        with self._session(session) as session:
            return session.query(TaskRecord).all()

    def find_all_events(self, session: sqlalchemy.orm.Session | None = None) -> list[TaskEvent]:
        with self._session(session) as session:
            return session.query(TaskEvent).all()

    def find_task_by_id(self, id: int, session: sqlalchemy.orm.Session | None = None) -> TaskRecord | None:
        with self._session(session) as session:
            return session.get(TaskRecord, id)

    def find_task_by_task_id(self, task_id: str, session: sqlalchemy.orm.Session | None = None) -> TaskRecord:
        """The newest record of ``task_id``; ``IndexError`` if there is none."""
        with self._session(session) as session:
            record = (
                session.query(TaskRecord).filter(TaskRecord.task_id == task_id).order_by(TaskRecord.id.desc()).first()
            )
            if record is None:
                raise IndexError(f"no task record for task id {task_id!r}")
            return record


def _is_in_memory(engine: sqlalchemy.engine.Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


class _BackgroundWriter:
    """Runs submitted calls one after the other on a daemon thread, in submission order.

    The queue is bounded (``maxsize`` calls) so a database that cannot keep up costs a bounded
    amount of memory: once it is full, :meth:`submit` blocks until the writer catches up (logged
    once per backlog). A call that raises is logged as the scheduler logs history errors (``"Error
    saving Task history"``) and the next one runs. The thread starts with the first call (and again in a
    forked child, which has no copy of it)."""

    def __init__(self, maxsize: int = 10000) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize)
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._lock = threading.Lock()
        self._warned_full = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self._ensure_started()
        item = (fn, args)
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            if not self._warned_full:
                self._warned_full = True
                logger.warning("Task history database is slow: %d writes queued, recording waits for it",
                               self._queue.maxsize)
            self._queue.put(item)
        else:
            self._warned_full = False

    def flush(self) -> None:
        """Return once every call submitted so far has run."""
        if self._thread is not None and self._pid == os.getpid():
            self._queue.join()

    def close(self) -> None:
        """Run what is queued, then stop the thread (at once if called from the thread itself)."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None or self._pid != os.getpid():
                return
            self._queue.put(None)
        if thread is not threading.current_thread():
            thread.join()

    def is_current_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def _ensure_started(self) -> None:
        if self._thread is not None and self._pid == os.getpid():
            return
        with self._lock:
            if self._thread is None or self._pid != os.getpid():
                self._queue = queue.Queue(self._queue.maxsize)
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="luigi-task-history", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while self._apply(self._queue.get()):
            pass

    def _apply(self, item: tuple[Callable[..., Any], tuple] | None) -> bool:
        """Run one queued call; False for the stop marker. A helper so that no local variable of
        the thread keeps the last call (and the history object it belongs to) alive while idle."""
        try:
            if item is None:
                return False
            fn, args = item
            try:
                fn(*args)
            except Exception:
                _scheduler_logger.warning("Error saving Task history", exc_info=True)
            return True
        finally:
            self._queue.task_done()


class TaskParameter(Base):
    """One parameter value of a task record."""

    __tablename__ = "task_parameters"
    task_id = sqlalchemy.Column(sqlalchemy.Integer, sqlalchemy.ForeignKey("tasks.id"), primary_key=True)
    name = sqlalchemy.Column(sqlalchemy.String(128), primary_key=True)
    value = sqlalchemy.Column(sqlalchemy.Text())

    def __repr__(self) -> str:
        return "TaskParameter(task_id=%d, name=%s, value=%s)" % (self.task_id, self.name, self.value)  # noqa: UP031


class TaskEvent(Base):
    """One status change of a task record."""

    __tablename__ = "task_events"
    id = sqlalchemy.Column(sqlalchemy.Integer, primary_key=True)
    task_id = sqlalchemy.Column(sqlalchemy.Integer, sqlalchemy.ForeignKey("tasks.id"), index=True)
    event_name = sqlalchemy.Column(sqlalchemy.String(20))
    ts = sqlalchemy.Column(sqlalchemy.TIMESTAMP, index=True, nullable=False)

    def __repr__(self) -> str:
        return "TaskEvent(task_id=%s, event_name=%s, ts=%s" % (self.task_id, self.event_name, self.ts)  # noqa: UP031


class TaskRecord(Base):
    """One run of a task id within a server lifetime, with its parameters and events."""

    __tablename__ = "tasks"
    id = sqlalchemy.Column(sqlalchemy.Integer, primary_key=True)
    task_id = sqlalchemy.Column(sqlalchemy.String(200), index=True)
    name = sqlalchemy.Column(sqlalchemy.String(128), index=True)
    host = sqlalchemy.Column(sqlalchemy.String(128))
    parameters = sqlalchemy.orm.relationship(
        "TaskParameter", collection_class=attribute_keyed_dict("name"), cascade="all, delete-orphan"
    )
    events = sqlalchemy.orm.relationship(
        "TaskEvent", order_by=(sqlalchemy.desc(TaskEvent.ts), sqlalchemy.desc(TaskEvent.id)), backref="task"
    )

    def __repr__(self) -> str:
        return "TaskRecord(name=%s, host=%s)" % (self.name, self.host)  # noqa: UP031


def _upgrade_schema(engine: sqlalchemy.engine.Engine) -> None:
    """Bring databases created by older Luigi versions up to the current columns (committed)."""
    inspector = sqlalchemy.inspect(engine)
    with engine.begin() as conn:
        if "task_id" not in [c["name"] for c in inspector.get_columns("tasks")]:
            logger.warning("Upgrading DbTaskHistory schema: Adding tasks.task_id")
            conn.execute(sqlalchemy.text("ALTER TABLE tasks ADD COLUMN task_id VARCHAR(200)"))
            conn.execute(sqlalchemy.text("CREATE INDEX ix_task_id ON tasks (task_id)"))
        dialect = engine.dialect.name
        if "mysql" in dialect:
            conn.execute(sqlalchemy.text("ALTER TABLE task_parameters MODIFY COLUMN value TEXT"))
        elif "oracle" in dialect:
            conn.execute(sqlalchemy.text("ALTER TABLE task_parameters MODIFY value TEXT"))
        elif "mssql" in dialect:
            conn.execute(sqlalchemy.text("ALTER TABLE task_parameters ALTER COLUMN value TEXT"))
        elif "postgresql" in dialect:
            value_type = next(c["type"] for c in inspector.get_columns("task_parameters") if c["name"] == "value")
            if str(value_type) != "TEXT":
                conn.execute(sqlalchemy.text("ALTER TABLE task_parameters ALTER COLUMN value TYPE TEXT"))
        elif "sqlite" in dialect:
            for row in conn.execute(sqlalchemy.text("PRAGMA table_info(task_parameters);")).fetchall():
                if row[1] == "value" and row[2] != "TEXT":
                    logger.warning(
                        "SQLite can not change column types. Please use a new database to pickup column type changes."
                    )
        else:
            logger.warning("SQLAlcheny dialect {} could not be migrated to the TEXT type".format(dialect))  # noqa: UP032
