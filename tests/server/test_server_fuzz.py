"""Hypothesis fuzzing of /api/<method>: arbitrary bodies never crash the server or corrupt state."""

from __future__ import annotations

import json
import urllib.parse

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from luigid_helpers import http_call

from luigi.scheduler import RPC_METHODS

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
arg_names = st.sampled_from(
    ["task_id", "worker", "status", "deps", "new_deps", "resources", "priority", "params", "family", "info", "n",
     "amount", "task_str", "include_done", "current_tasks", "batched_args", "max_batch_size", "expl", "host",
     "param_visibilities", "retry_policy_dict", "runnable", "statistics", "zzz"]
)
methods = st.sampled_from(sorted(set(RPC_METHODS) - {"update_metrics_task_started", "prune"}) + ["nope"])


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_requests_get_200_or_a_json_4xx(make_server_once, data):
    srv = make_server_once
    method = data.draw(methods)
    kind = data.draw(st.sampled_from(["args", "raw"]))
    if kind == "args":
        payload = json.dumps(data.draw(st.dictionaries(arg_names, json_values, max_size=6)))
    else:
        payload = data.draw(st.text(max_size=60))
    raw = urllib.parse.urlencode({"data": payload}).encode()
    status, body, _ = http_call(srv.port, f"/api/{method}", raw_body=raw)
    assert status == 200 or 400 <= status < 500, (method, payload, status, body)
    if status != 200:
        assert isinstance(body, dict) and body["error"]["status"] == status
    # the server is still serving and the scheduler still answers its read APIs
    assert http_call(srv.port, "/api/task_list", {})[0] == 200
    assert http_call(srv.port, "/api/worker_list", {})[0] == 200
