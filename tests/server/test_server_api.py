"""The HTTP application against a real in-process Scheduler: envelope, verbs, errors, CORS, auth."""

from __future__ import annotations

import json
import urllib.parse

import pytest
from luigid_helpers import http_call

from luigi import configuration


def add_task(port, task_id, worker="W1", **kw):
    return http_call(port, "/api/add_task", {"task_id": task_id, "worker": worker, "family": "F", **kw})


def test_post_and_get_return_the_response_envelope(make_server):
    srv = make_server()
    status, body, resp = add_task(srv.port, "A", status="PENDING")
    assert (status, body) == (200, {"response": None})
    assert resp.getheader("Content-Type") == "application/json; charset=UTF-8"
    query = urllib.parse.urlencode({"data": json.dumps({"status": "PENDING"})})
    status, body, _ = http_call(srv.port, "/api/task_list", method="GET", query=query)
    assert status == 200
    assert list(body["response"]) == ["A"]
    assert body["response"]["A"]["status"] == "PENDING"


def test_missing_and_empty_data_mean_no_arguments(make_server):
    srv = make_server()
    assert http_call(srv.port, "/api/is_paused", method="GET")[1] == {"response": {"paused": False}}
    # the visualiser's pause button sends an empty data= (Luigi answers 500 to it)
    assert http_call(srv.port, "/api/pause", method="GET", query="data=")[0] == 200
    assert http_call(srv.port, "/api/is_paused", method="GET")[1] == {"response": {"paused": True}}


def test_infinity_token_accepted(make_server):
    srv = make_server()
    raw = urllib.parse.urlencode(
        {"data": '{"worker": "W1", "task_family": "F", "batched_args": ["a"], "max_batch_size": Infinity}'}
    ).encode()
    assert http_call(srv.port, "/api/add_task_batcher", raw_body=raw)[0] == 200


def test_response_is_gzipped_when_asked(make_server):
    srv = make_server()
    for i in range(50):
        add_task(srv.port, f"T{i}")
    _, body, resp = http_call(srv.port, "/api/task_list", {}, headers={"Accept-Encoding": "gzip"})
    assert resp.getheader("Content-Encoding") == "gzip"
    assert isinstance(body, str)  # compressed bytes, not JSON text


@pytest.mark.parametrize(
    ("path", "raw", "status", "needle"),
    [
        ("/api/no_such_method", b"data={}", 404, "unknown RPC method 'no_such_method'"),
        ("/api/ping/", b"data={}", 404, "unknown RPC method"),
        ("/api/ping", b"data=%7Bnot json", 400, "'data' is not valid JSON"),
        ("/api/ping", b"data=%5B1%2C2%5D", 400, "'data' must be a JSON object, got array"),
        ("/api/add_task", b"data=%7B%22task_id%22%3A%20%22A%22%7D", 400, "add_task: argument 'worker' is required"),
        ("/api/disable_worker", b"data=%7B%22worker%22%3A%22W%22%2C%22x%22%3A1%7D", 400,
         "disable_worker: got an unexpected keyword argument 'x'"),
        ("/api/set_worker_processes", b"data=%7B%22worker%22%3A%22W%22%7D", 400,
         "set_worker_processes: missing a required argument: 'n'"),
        ("/api/update_metrics_task_started", b"data=%7B%22task%22%3A%22x%22%7D", 400, "only callable in-process"),
    ],
)
def test_bad_requests_get_json_4xx_naming_the_problem(make_server, path, raw, status, needle):
    srv = make_server()
    got_status, body, resp = http_call(srv.port, path, raw_body=raw)
    assert got_status == status
    assert resp.getheader("Content-Type").startswith("application/json")
    assert body["error"]["status"] == status
    assert needle in body["error"]["message"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"deps": "B"}, "argument 'deps' must be a list of strings, got string"),
        ({"deps": [1, 2]}, "argument 'deps' must be a list of strings, got array"),
        ({"task_id": 7}, "argument 'task_id' must be a string, got number"),
        ({"priority": "high"}, "argument 'priority' must be a number, got string"),
        ({"resources": {"cpu": "many"}}, "argument 'resources' must be an object of numbers, got object"),
        ({"params": ["a"]}, "argument 'params' must be an object, got array"),
        ({"runnable": "yes"}, "argument 'runnable' must be a boolean, got string"),
    ],
)
def test_wrong_argument_types_leave_state_unchanged(make_server, args, message):
    srv = make_server()
    add_task(srv.port, "A", priority=5)
    before = http_call(srv.port, "/api/task_list", {})[1]
    status, body, _ = add_task(srv.port, "A", **args) if "task_id" not in args else http_call(
        srv.port, "/api/add_task", {"worker": "W1", **args})
    assert status == 400
    assert message in body["error"]["message"]
    assert http_call(srv.port, "/api/task_list", {})[1] == before


def test_bogus_task_ids_are_answered_not_crashed(make_server):
    srv = make_server()
    assert http_call(srv.port, "/api/mark_as_done", {"task_id": "nope"})[1] == {
        "response": {"task_id": "nope", "status": None}}
    assert http_call(srv.port, "/api/fetch_error", {"task_id": "nope"})[1]["response"]["error"] == ""
    assert http_call(srv.port, "/api/dep_graph", {"task_id": "nope"})[0] == 200
    assert http_call(srv.port, "/api/task_list", {})[1] == {"response": {}}


def test_oversized_body_is_refused_and_server_keeps_serving(make_server):
    configuration.get_config().set("scheduler", "max_request_body_bytes", "1000")
    srv = make_server()
    status, body, _ = http_call(srv.port, "/api/ping", raw_body=b"data=" + b"x" * 5000)
    assert status == 413
    assert "exceeds the limit of 1000 bytes" in body["error"]["message"]
    assert http_call(srv.port, "/api/ping", {"worker": "W"})[0] == 200


def test_scheduler_exception_is_a_json_500(make_server):
    srv = make_server()

    def boom(**kwargs):
        raise RuntimeError("kaput")

    srv.scheduler.graph = boom
    status, body, _ = http_call(srv.port, "/api/graph", {})
    assert status == 500
    assert body["error"]["message"] == "RuntimeError: kaput"


def test_root_redirects_relatively_and_head_is_a_health_check(make_server):
    srv = make_server()
    status, _, resp = http_call(srv.port, "/", method="GET")
    assert status == 302
    assert resp.getheader("Location") == "static/visualiser/index.html"
    assert http_call(srv.port, "/", method="HEAD")[0] == 204
    status, page, _ = http_call(srv.port, "/static/visualiser/index.html", method="GET")
    assert status == 200
    assert "Luigi central scheduler is up" in page


def test_options_preflight_and_cors_headers(make_server):
    config = configuration.get_config()
    config.set("cors", "enabled", "true")
    config.set("cors", "allowed_origins", '["https://a.example", "*"]')
    config.set("cors", "allow_credentials", "true")
    srv = make_server()
    status, _, resp = http_call(srv.port, "/api/ping", method="OPTIONS", headers={"Origin": "https://a.example"})
    assert status == 204
    assert resp.getheader("Access-Control-Allow-Origin") == "https://a.example"
    assert resp.getheader("Access-Control-Max-Age") == "86400"
    assert resp.getheader("Access-Control-Allow-Methods") == "GET, OPTIONS"
    assert resp.getheader("Access-Control-Allow-Credentials") == "true"
    _, _, resp = http_call(srv.port, "/api/ping", method="OPTIONS", headers={"Origin": "https://evil.example"})
    assert resp.getheader("Access-Control-Allow-Origin") is None
    _, _, resp = http_call(srv.port, "/api/is_paused", {}, headers={"Origin": "https://a.example"})
    assert resp.getheader("Access-Control-Allow-Origin") == "https://a.example"
    assert "Origin" in resp.getheader("Vary").split(", ")


def test_auth_token_required_when_configured(make_server, monkeypatch):
    monkeypatch.setenv("LUIGI_SCHEDULER_TOKEN", "s3cret")
    srv = make_server()
    status, body, _ = http_call(srv.port, "/api/ping", {"worker": "W"})
    assert status == 401
    assert "X-Luigi-Scheduler-Token" in body["error"]["message"]
    assert http_call(srv.port, "/api/ping", {"worker": "W"}, headers={"X-Luigi-Scheduler-Token": "wrong"})[0] == 401
    ok = http_call(srv.port, "/api/ping", {"worker": "W"}, headers={"X-Luigi-Scheduler-Token": "s3cret"})
    assert ok[0] == 200
    assert http_call(srv.port, "/metrics", method="GET")[0] == 401
    assert http_call(srv.port, "/", method="HEAD")[0] == 204  # health check stays public
    assert http_call(srv.port, "/api/ping", method="OPTIONS")[0] == 204  # preflights carry no token


def test_metrics_empty_by_default_and_prometheus_when_enabled(make_server):
    srv = make_server()
    status, body, _ = http_call(srv.port, "/metrics", method="GET")
    assert (status, body) == (200, "")

    configuration.get_config().set("scheduler", "metrics_collector", "prometheus")
    from luigi.scheduler import Scheduler

    srv = make_server(Scheduler())
    add_task(srv.port, "A")
    work = http_call(srv.port, "/api/get_work", {"worker": "W1", "host": "h"})[1]["response"]
    assert work["task_id"] == "A"
    add_task(srv.port, "A", status="DONE")
    status, text, resp = http_call(srv.port, "/metrics", method="GET")
    assert status == 200
    assert resp.getheader("Content-Type").startswith("text/plain")
    assert 'luigi_task_started_total{family="F"} 1.0' in text
    assert 'luigi_task_done_total{family="F"} 1.0' in text
    assert "luigi_task_execution_time_seconds" in text



def test_successful_api_calls_are_logged_at_debug_and_errors_at_warning(make_server, caplog):
    srv = make_server()
    with caplog.at_level("DEBUG", logger="tornado.access"):
        assert add_task(srv.port, "A", status="PENDING")[0] == 200
        assert http_call(srv.port, "/api/no_such_method", {})[0] == 404
        # one event-loop thread: once this answer arrives, the lines of the calls above were logged
        assert http_call(srv.port, "/api/is_paused", method="GET")[0] == 200
    levels = {r.getMessage().split()[0]: r.levelname for r in caplog.records if r.name == "tornado.access"}
    assert levels == {"200": "DEBUG", "404": "WARNING"}


def test_reply_escapes_closing_script_tags_like_luigi(make_server):
    import http.client

    srv = make_server()
    add_task(srv.port, "A</script>", status="PENDING")
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    conn.request("GET", "/api/task_list?" + urllib.parse.urlencode({"data": json.dumps({"status": "PENDING"})}))
    raw = conn.getresponse().read().decode()
    conn.close()
    assert '"A<\\/script>": {' in raw and "</" not in raw
    assert list(json.loads(raw)["response"]) == ["A</script>"]


def test_tasks_added_over_http_share_the_strings_the_scheduler_keeps(make_server):
    srv = make_server()
    for task_id in ("A", "B"):
        add_task(srv.port, task_id, status="PENDING", module="my.module", params={"date": task_id},
                 param_visibilities={"date": 0})
    add_task(srv.port, "C", status="PENDING", deps=["A", "Later"])
    state = srv.scheduler._state
    a, b, c = (state.get_task(t) for t in ("A", "B", "C"))
    assert a.family is b.family and a.module is b.module and a.status is b.status
    assert next(iter(a.params)) is next(iter(b.params))
    assert a.param_visibilities is b.param_visibilities and a.param_visibilities == {"date": 0}
    assert next(iter(a.stakeholders)) is next(iter(b.stakeholders)) is next(iter(c.workers))
    dep_ids = {dep: dep for dep in c.deps}
    assert dep_ids["A"] is a.id  # the dependency's own id, not the request's copy
    assert dep_ids["Later"] is state.get_task("Later").id  # created from the request's copy
