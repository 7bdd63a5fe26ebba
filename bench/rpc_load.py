"""RPC load on luigid: ours and Luigi 3.8.1's side by side, in the issue's scenario.

The state is what a busy luigid really holds: ``--sizes`` PENDING tasks, split over 8 client
workers that are their stakeholders (so every task is runnable by some client), in chains of
``CHAIN`` tasks where each task depends on the previous one (so most tasks wait on a dependency and
a scheduler that scans tasks in ``get_work`` has to look at them). Then 8 client processes, each
posing as one of those workers, loop on keep-alive connections over what a real worker sends:

* ``ping``;
* ``get_work`` with ``current_tasks`` (its running task) and ``assistant=False``;
* ``add_task`` marking the task it was given DONE (which makes the next task of that chain runnable).

Prints requests/s over all clients, the server's CPU time per request (steadier than requests/s on a
shared machine), p50/p99 latency overall and per method, and the server's resident memory per task
in state. Prints numbers only; asserts nothing.

    .venv/bin/python bench/rpc_load.py                      # 20,000 and 100,000 tasks, 10 s each
    .venv/bin/python bench/rpc_load.py --sizes 20000 --duration 5 --no-real

Both servers are driven by the same client code (this repo's RemoteScheduler, one HTTP/1.1
keep-alive connection per process), so the difference is the server.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "server"))

from luigid_helpers import Luigid, RealLuigid  # noqa: E402

CHAIN = 10  # tasks per dependency chain


def _worker_id(index: int) -> str:
    return f"bench-client-{index}"


def _preload(url: str, index: int, count: int) -> None:
    """Add ``count`` PENDING tasks with client ``index`` as stakeholder, as its worker would."""
    os.environ.setdefault("LUIGI_CONFIG_PATH", os.devnull)
    from luigi.rpc import RemoteScheduler

    sch = RemoteScheduler(url)
    worker = _worker_id(index)
    sch.add_worker(worker, {"workers": 1, "host": "bench", "username": "bench", "pid": os.getpid()})
    for i in range(count):
        deps = [f"Bench_{index}_{i - 1}"] if i % CHAIN else []
        sch.add_task(worker=worker, task_id=f"Bench_{index}_{i}", status="PENDING", runnable=True, deps=deps,
                     new_deps=[], expl=None, resources={}, priority=0, family="Bench", module="bench",
                     params={"i": str(i)}, param_visibilities={"i": 0}, assistant=False, tracking_url=None,
                     owners=[], retry_policy_dict={}, accepts_messages=True)


def _loop(url: str, index: int, duration: float, queue: multiprocessing.Queue) -> None:
    """One load client posing as worker ``index``: returns per-method latency lists through ``queue``."""
    from luigi.rpc import RemoteScheduler

    sch = RemoteScheduler(url)
    worker = _worker_id(index)
    latencies: dict[str, list[float]] = {"ping": [], "get_work": [], "add_task": []}
    running: list[str] = []
    deadline = time.perf_counter() + duration
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        sch.ping(worker=worker)
        t1 = time.perf_counter()
        reply = sch.get_work(worker=worker, host="bench", assistant=False, current_tasks=running)
        t2 = time.perf_counter()
        latencies["ping"].append(t1 - t0)
        latencies["get_work"].append(t2 - t1)
        task_id = reply["task_id"]
        if task_id:
            sch.add_task(worker=worker, task_id=task_id, status="DONE", expl="", runnable=None, new_deps=[],
                         assistant=False, tracking_url=None)
            latencies["add_task"].append(time.perf_counter() - t2)
    queue.put(latencies)


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))] * 1000


def measure(name: str, url: str, pid: int, n_tasks: int, clients: int, duration: float) -> None:
    base_rss = rss_bytes(pid)
    t0 = time.perf_counter()
    per = n_tasks // clients
    procs = [multiprocessing.Process(target=_preload, args=(url, k, per)) for k in range(clients)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    load_s = time.perf_counter() - t0
    per_task = (rss_bytes(pid) - base_rss) / n_tasks
    queue: multiprocessing.Queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_loop, args=(url, k, duration, queue)) for k in range(clients)]
    cpu0 = cpu_seconds(pid)
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    cpu = cpu_seconds(pid) - cpu0
    for p in procs:
        p.join()
    merged: dict[str, list[float]] = {}
    for result in results:
        for method, values in result.items():
            merged.setdefault(method, []).extend(values)
    every = sorted(v for values in merged.values() for v in values)
    parts = [f"all p50 {_percentile(every, 0.5):.1f} p99 {_percentile(every, 0.99):.1f} ms"]
    for method, values in merged.items():
        if values:
            values.sort()
            parts.append(f"{method} p50 {_percentile(values, 0.5):.1f} p99 {_percentile(values, 0.99):.1f}")
    print(f"{name:6} {n_tasks:>7} tasks | preload {n_tasks / load_s:6.0f} add_task/s | "
          f"{len(every) / duration:7.0f} req/s | server CPU {cpu * 1000 / len(every):5.2f} ms/req | "
          + " | ".join(parts) + f" | {per_task:5.0f} B/task", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000, 100000])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--no-real", action="store_true", help="skip Luigi 3.8.1")
    parser.add_argument("--no-ours", action="store_true", help="skip this repo's luigid")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        cfg = workdir / "client.cfg"
        cfg.write_text("[core]\nrpc_retry_wait = 1\n")
        os.environ["LUIGI_CONFIG_PATH"] = str(cfg)
        for n_tasks in args.sizes:
            if not args.no_ours:
                ours = Luigid(workdir, "--state-path", str(workdir / f"ours-{n_tasks}.db")).start()
                try:
                    measure("ours", ours.url, ours.proc.pid, n_tasks, args.clients, args.duration)
                finally:
                    ours.terminate()
            if not args.no_real:
                real = RealLuigid(workdir)
                try:
                    measure("luigi", real.url, real.proc.pid, n_tasks, args.clients, args.duration)
                finally:
                    real.stop()


if __name__ == "__main__":
    main()
