from __future__ import annotations

import pytest
from luigid_helpers import Luigid, ServerThread


@pytest.fixture
def make_server():
    """Factory for in-process servers; all are stopped after the test."""
    servers: list[ServerThread] = []

    def factory(scheduler=None, **kwargs):
        from luigi.scheduler import Scheduler

        srv = ServerThread(scheduler if scheduler is not None else Scheduler(), **kwargs)
        servers.append(srv)
        return srv

    yield factory
    for srv in servers:
        srv.stop()


@pytest.fixture
def make_luigid(tmp_path):
    """Factory for real luigid subprocesses; all are killed after the test."""
    procs: list[Luigid] = []

    def factory(*args, **kwargs):
        proc = Luigid(tmp_path, *args, **kwargs)
        procs.append(proc)
        return proc

    yield factory
    for proc in procs:
        proc.stop()


@pytest.fixture(scope="module")
def make_server_once():
    """One server shared by a module's examples (hypothesis re-runs a test body many times)."""
    from luigi.scheduler import Scheduler

    srv = ServerThread(Scheduler())
    yield srv
    srv.stop()
