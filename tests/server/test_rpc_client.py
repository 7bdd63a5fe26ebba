"""RemoteScheduler: URL handling, keep-alive, retries, error reporting, auth, Unix sockets."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from luigi import configuration, rpc
from luigi.rpc import RemoteScheduler, RPCError, _urljoin


@pytest.fixture
def fast_retries():
    config = configuration.get_config()
    config.set("core", "rpc_retry_wait", "0")
    config.set("core", "rpc_retry_attempts", "3")
    config.set("core", "rpc_connect_timeout", "5")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("base", "url", "expected"),
    [
        ("http://localhost:8082", "/api/ping", "http://localhost:8082/api/ping"),
        ("http://host/luigi", "/api/ping", "http://host/luigi/api/ping"),
        ("http://host/luigi", "api/ping", "http://host/luigi/api/ping"),
        ("http+unix://%2Fvar%2Frun%2Fluigid.sock", "/api/ping", "http+unix://%2Fvar%2Frun%2Fluigid.sock/api/ping"),
        ("https://u:p@host:443/a/b?x=1", "/api/ping", "https://u:p@host:443/a/b/api/ping"),
    ],
)
def test_urljoin(base, url, expected):
    assert _urljoin(base, url) == expected


def test_rpc_error_carries_sub_exception():
    inner = ValueError("x")
    err = RPCError("msg", inner)
    assert (str(err), err.args, err.sub_exception) == ("msg", ("msg",), inner)


def test_configuration_and_defaults():
    sch = RemoteScheduler("http://h:1///")
    assert sch._url == "http://h:1"
    assert (sch._connect_timeout, sch._rpc_retry_attempts, sch._rpc_retry_wait, sch._rpc_log_retries) == (
        10.0, 3, 30, True)
    config = configuration.get_config()
    config.set("core", "rpc-retry-attempts", "7")
    config.set("core", "rpc_connect_timeout", "2.5")
    sch = RemoteScheduler("http://h:1")
    assert (sch._rpc_retry_attempts, sch._connect_timeout) == (7, 2.5)
    assert RemoteScheduler("http://h:1", connect_timeout=1)._connect_timeout == 1
    assert isinstance(sch._fetcher, rpc.URLLibFetcher)


def test_every_rpc_method_is_on_the_proxy():
    from luigi.scheduler import RPC_METHODS

    assert len(RPC_METHODS) == 39
    for name in RPC_METHODS:
        assert callable(getattr(RemoteScheduler, name))


def test_worker_conversation_over_one_keep_alive_connection(make_server, fast_retries):
    srv = make_server()
    sch = RemoteScheduler(srv.url)
    sch.add_worker("W1", {"workers": 1, "host": "h"})
    sch.add_task(worker="W1", task_id="A", family="A", status="PENDING", deps=["B"])
    sch.add_task(worker="W1", task_id="B", family="B", status="PENDING")
    work = sch.get_work(worker="W1", host="h")
    assert work["task_id"] == "B"
    (conn,) = sch._fetcher._connections.values()
    first_sock = conn.sock
    sch.add_task(worker="W1", task_id="B", status="DONE")
    assert sch.get_work(worker="W1", host="h")["task_id"] == "A"
    sch.add_task(worker="W1", task_id="A", status="DONE")
    assert sch.ping(worker="W1") == {"rpc_messages": []}
    assert sch.task_list("DONE", "").keys() == {"A", "B"}
    assert sch._fetcher._connections[next(iter(sch._fetcher._connections))].sock is first_sock
    sch.close()


def test_unreachable_scheduler_retries_then_raises(fast_retries, caplog):
    port = closed_port()
    sch = RemoteScheduler(f"http://127.0.0.1:{port}")
    caplog.set_level(logging.INFO, logger="luigi-interface")
    with pytest.raises(RPCError) as info:
        sch.ping(worker="W")
    assert str(info.value) == f"Errors (3 attempts) when connecting to remote scheduler 'http://127.0.0.1:{port}'"
    assert isinstance(info.value.sub_exception, ConnectionRefusedError)
    failures = [r for r in caplog.records if r.getMessage().startswith("Failed connecting to remote scheduler")]
    assert len(failures) == 3


def test_retry_waits_between_attempts_only(monkeypatch):
    config = configuration.get_config()
    config.set("core", "rpc_retry_wait", "7")
    config.set("core", "rpc_retry_attempts", "3")
    sleeps = []
    monkeypatch.setattr(time, "sleep", sleeps.append)
    with pytest.raises(RPCError):
        RemoteScheduler(f"http://127.0.0.1:{closed_port()}").ping(worker="W")
    assert sleeps == [7, 7]


def test_server_error_is_retried_but_client_error_is_not(make_server, fast_retries):
    srv = make_server()
    calls = []

    def boom(**kwargs):
        calls.append(kwargs)
        raise RuntimeError("kaput")

    srv.scheduler.graph = boom
    sch = RemoteScheduler(srv.url)
    with pytest.raises(RPCError, match="Errors \\(3 attempts\\)"):
        sch.graph()
    assert len(calls) == 3

    with pytest.raises(RPCError) as info:
        sch._request("/api/set_worker_processes", {"worker": "W"})
    assert "rejected /api/set_worker_processes: 400" in str(info.value)
    assert "missing a required argument: 'n'" in str(info.value)


def test_null_get_work_is_retried_three_times(fast_retries, monkeypatch):
    sch = RemoteScheduler("http://127.0.0.1:1")
    pages = []
    monkeypatch.setattr(sch, "_fetch", lambda url, body: pages.append(url) or '{"response": null}')
    with pytest.raises(RPCError, match="Received null response from remote scheduler 'http://127.0.0.1:1'"):
        sch.get_work(worker="W")
    assert pages == ["/api/get_work"] * 3
    assert sch.ping(worker="W") is None  # ping accepts null
    assert len(pages) == 4


def test_missing_required_argument_fails_before_any_request(monkeypatch):
    sch = RemoteScheduler("http://127.0.0.1:1")
    monkeypatch.setattr(sch, "_fetch", lambda *a: pytest.fail("no request expected"))
    with pytest.raises(TypeError, match="set_worker_processes takes 2 arguments \\(1 given\\)"):
        sch.set_worker_processes("W")


def test_basic_auth_userinfo_becomes_a_header(make_server):
    fetcher = rpc.URLLibFetcher()
    req = fetcher._create_request("http://user:pass@host:8082/api/ping", {"data": "{}"})
    assert req.full_url == "http://host:8082/api/ping"
    assert req.get_header("Authorization") == "Basic dXNlcjpwYXNz"
    assert req.data == b"data=%7B%7D"
    srv = make_server()
    sch = RemoteScheduler(srv.url.replace("http://", "http://user:pass@"))
    assert sch.is_paused() == {"paused": False}


def test_token_is_sent_when_configured(make_server, monkeypatch, fast_retries):
    monkeypatch.setenv("LUIGI_SCHEDULER_TOKEN", "tok")
    srv = make_server()
    assert RemoteScheduler(srv.url).is_paused() == {"paused": False}
    monkeypatch.delenv("LUIGI_SCHEDULER_TOKEN")
    with pytest.raises(RPCError, match="rejected /api/is_paused: 401"):
        RemoteScheduler(srv.url).is_paused()


def test_unix_socket(make_server, tmp_path):
    path = str(tmp_path / "luigid.sock")
    srv = make_server(unix_socket=path)
    sch = RemoteScheduler(srv.url)
    sch.add_task(worker="W", task_id="A", family="A")
    assert list(sch.task_list("PENDING", "")) == ["A"]


def test_connection_closed_by_server_while_idle_is_reopened_at_once(monkeypatch):
    """A keep-alive connection the server dropped is replaced without the rpc_retry_wait pause."""
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    accepted = []
    reply = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{"response": 1}\n'

    def serve():
        for _ in range(2):
            conn, _ = listener.accept()
            accepted.append(conn)
            conn.recv(65536)
            conn.sendall(reply)
            conn.close()  # keeps nothing alive although the reply did not say so

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    monkeypatch.setattr(time, "sleep", lambda s: pytest.fail("should not wait"))
    sch = RemoteScheduler(f"http://127.0.0.1:{listener.getsockname()[1]}")
    assert sch.is_paused() == 1
    assert sch.is_paused() == 1
    thread.join(10)
    listener.close()
    assert len(accepted) == 2


def test_threads_do_not_share_a_connection(make_server):
    """A worker pings from a keep-alive thread while its main thread asks for work."""
    import threading

    srv = make_server()
    sch = RemoteScheduler(srv.url)
    errors = []

    def hammer(name):
        try:
            for _ in range(200):
                sch.ping(worker=name)
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=hammer, args=(f"W{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(sch._fetcher._all) == 4
    sch.close()
    assert sch._fetcher._all == set()
