"""DbTaskHistory on a real PostgreSQL server (a throw-away cluster on a Unix socket)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from luigid_helpers import free_port

from luigi import configuration


def as_postgres(*cmd: str) -> list[str]:
    """PostgreSQL refuses to run as root; CI runs as root."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)


@pytest.fixture
def postgres_url():
    bindirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    assert bindirs, "PostgreSQL server binaries missing (.ci/run installs the postgresql package)"
    bindir = Path(bindirs[-1])
    base = Path(tempfile.mkdtemp(prefix="luigi-pg-"))
    base.chmod(0o755)
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
    port = free_port()
    subprocess.run(as_postgres(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"),
                   check=True, capture_output=True)
    subprocess.run(as_postgres(str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log"), "-o",
                               f"-k {sock} -p {port} -c listen_addresses=''", "start"), check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg2://postgres@/postgres?host={sock}&port={port}"
    finally:
        subprocess.run(as_postgres(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"),
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_history_on_postgresql(postgres_url):
    config = configuration.get_config()
    config.set("scheduler", "record_task_history", "true")
    config.set("task_history", "db_connection", postgres_url)
    from luigi.db_task_history import DbTaskHistory, TaskRecord
    from luigi.scheduler import Scheduler

    sch = Scheduler()
    history = sch.task_history
    assert isinstance(history, DbTaskHistory)
    assert history.engine.dialect.name == "postgresql"
    sch.add_task(worker="W", task_id="Fam(p=1)", family="Fam", params={"p": "1"})
    assert sch.get_work(worker="W", host="pg-host")["task_id"] == "Fam(p=1)"
    sch.add_task(worker="W", task_id="Fam(p=1)", status="FAILED", expl='"x"')
    with history._session() as session:
        (record,) = session.query(TaskRecord).all()
        assert record.host == "pg-host"
        assert [e.event_name for e in record.events] == ["FAILED", "RUNNING", "PENDING"]
        assert record.parameters["p"].value == "1"
    assert [r.task_id for r in history.find_all_by_parameters("Fam", p="1")] == ["Fam(p=1)"]
    DbTaskHistory()  # a second start upgrades nothing and keeps the data
    assert len(history.find_all_runs()) == 1
