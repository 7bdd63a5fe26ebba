"""luigi-deps, luigi-deps-tree and luigi-grep with real tasks, subprocesses and a loopback HTTP server."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cli_support import luigi_env

import luigi
from luigi.tools import deps, deps_tree, luigi_grep


class A(luigi.Task):
    def output(self):
        return luigi.LocalTarget("a.txt")


class B(luigi.Task):
    n = luigi.IntParameter()

    def requires(self):
        return A()

    def output(self):
        return {"own": luigi.LocalTarget(f"b{self.n}.txt"), "shared": luigi.LocalTarget("data-b.txt")}


class C(luigi.Task):
    p = luigi.Parameter(default="q")

    def requires(self):
        return [B(n=1), B(n=2), A()]


def test_find_deps_to_an_upstream_family():
    assert deps.find_deps(C(), "B") == {C(), B(n=1), B(n=2)}
    assert deps.find_deps(C(), "A") == {C(), B(n=1), B(n=2), A()}
    assert deps.find_deps(C(), "Nope") == set()
    assert deps.find_deps(B(n=1), None) == {B(n=1), A()}


def test_find_deps_matches_path_enumeration():
    assert deps.find_deps(C(), "A") == set(deps.dfs_paths(C(), "A"))


class Diamond(luigi.Task):
    level = luigi.IntParameter()
    side = luigi.IntParameter(default=0)

    def requires(self):
        if self.level == 0:
            return []
        return [Diamond(level=self.level - 1, side=0), Diamond(level=self.level - 1, side=1)]


def test_find_deps_is_not_exponential_on_diamonds():
    # 60 stacked diamonds have 2**60 paths; find_deps expands each task once.
    found = deps.find_deps(Diamond(level=60), "Diamond")
    assert len(found) == 1 + 2 * 60


def test_output_descriptions():
    assert deps.get_task_output_description(luigi.LocalTarget("/x/y")) == "[FileSystem] /x/y"
    assert deps.get_task_output_description(None) == "to be determined"


def test_print_tree_exact_text(tmp_path):
    (tmp_path / "a.txt").write_text("done")
    colour_pending = f"({deps_tree.bcolors.OKBLUE}PENDING{deps_tree.bcolors.ENDC})"
    colour_complete = f"({deps_tree.bcolors.OKGREEN}COMPLETE{deps_tree.bcolors.ENDC})"
    assert deps_tree.print_tree(C()) == (
        f"\n└─--[C-{{'p': 'q'}} {colour_pending}]"
        f"\n    |---[B-{{'n': '1'}} {colour_pending}]"
        f"\n    |   └─--[A-{{}} {colour_complete}]"
        f"\n    |---[B-{{'n': '2'}} {colour_pending}]"
        f"\n    |   └─--[A-{{}} {colour_complete}]"
        f"\n    └─--[A-{{}} {colour_complete}]"
    )


def _run_tool(module: str, *args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd, env=luigi_env(cwd), capture_output=True, text=True, timeout=120
    )


def test_luigi_deps_command_prints_tasks_and_outputs(tmp_path):
    result = _run_tool("luigi.tools.deps", "--module", "cli_tasks", "FanIn", "--parts", "2", "--upstream-family", "Ok", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "   TASK: FanIn(parts=2)\n                       : [FileSystem] fanin-2.txt\n"
        "   TASK: Ok(n=0)\n                       : [FileSystem] ok-0.txt\n"
        "   TASK: Ok(n=1)\n                       : [FileSystem] ok-1.txt\n"
    )


def test_luigi_deps_tree_command(tmp_path):
    (tmp_path / "ok-0.txt").write_text("ok 0\n")
    result = _run_tool("luigi.tools.deps_tree", "--module", "cli_tasks", "FanIn", "--parts", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "\n└─--[FanIn-{'parts': '2'} (\x1b[94mPENDING\x1b[0m)]"
        "\n    |---[Ok-{'n': '0'} (\x1b[92mCOMPLETE\x1b[0m)]"
        "\n    └─--[Ok-{'n': '1'} (\x1b[94mPENDING\x1b[0m)]\n"
    )


GRAPH = {
    "response": {
        "Root_1": {"status": "PENDING", "deps": ["Leaf_1", "Leaf_2", "Gone_1"]},
        "Leaf_1": {"status": "DONE", "deps": []},
        "Leaf_2": {"status": "FAILED", "deps": []},
    }
}


@pytest.fixture
def graph_server():
    """A loopback HTTP server answering /api/graph like the central scheduler."""
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            body = json.dumps(GRAPH).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], requests
    finally:
        server.shutdown()
        server.server_close()


def test_luigi_grep_prefix_search(graph_server):
    port, requests = graph_server
    [result] = list(luigi_grep.LuigiGrep("127.0.0.1", port).prefix_search("Root"))
    assert result["name"] == "Root_1" and result["status"] == "PENDING"
    assert dict(result["deps_by_status"]) == {"DONE": ["Leaf_1"], "FAILED": ["Leaf_2"], "UNKNOWN": ["Gone_1"]}
    assert requests == ["/api/graph"]


def test_luigi_grep_command_status_search(graph_server, tmp_path):
    port, _ = graph_server
    result = _run_tool("luigi.tools.luigi_grep", "--scheduler-host", "127.0.0.1", "--scheduler-port", str(port), "--status", "failed", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"Fetching from url: http://127.0.0.1:{port}/api/graph\nLeaf_2: FAILED, Dependencies:\n"
    )
