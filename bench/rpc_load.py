"""RPC load on luigid: ours and Luigi 3.8.1's side by side.

For each server and each state size (tasks already in the scheduler), 8 client processes on
keep-alive connections loop ``ping`` / ``add_task`` (a new task) / ``get_work`` / ``add_task`` (DONE)
for a fixed time. Prints requests/s over all clients, p50/p99 latency per method, and the server's
resident memory per task in state. Prints numbers only; asserts nothing.

    .venv/bin/python bench/rpc_load.py                      # 20,000 and 100,000 tasks, 10 s each
    .venv/bin/python bench/rpc_load.py --sizes 20000 --duration 5 --no-real

Both servers are driven by the same client code (this repo's RemoteScheduler, whose fetcher keeps
one HTTP/1.1 connection alive per process), so the difference is the server.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "server"))

from luigid_helpers import Luigid, RealLuigid  # noqa: E402

LOADERS = 4


def _client(url: str, prefix: str, start: int, stop: int) -> None:
    """Add tasks [start, stop) for worker ``prefix`` (state preloading)."""
    os.environ.setdefault("LUIGI_CONFIG_PATH", os.devnull)
    from luigi.rpc import RemoteScheduler

    sch = RemoteScheduler(url)
    worker = f"{prefix}-loader"
    for i in range(start, stop):
        sch.add_task(worker=worker, task_id=f"Load_{prefix}_{i}", family="Load", params={"i": str(i)},
                     status="PENDING", deps=[f"Load_{prefix}_{i - 1}"] if i % 10 else None)


def _loop(url: str, index: int, duration: float, queue: multiprocessing.Queue) -> None:
    """One load client: returns per-method latency lists through ``queue``."""
    from luigi.rpc import RemoteScheduler

    sch = RemoteScheduler(url)
    worker = f"bench-client-{index}"
    sch.add_worker(worker, {"workers": 1, "host": "bench"})
    latencies: dict[str, list[float]] = {"ping": [], "add_task": [], "get_work": []}
    deadline = time.perf_counter() + duration
    i = 0
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        sch.ping(worker=worker)
        t1 = time.perf_counter()
        sch.add_task(worker=worker, task_id=f"Bench_{index}_{i}", family="Bench", status="PENDING")
        t2 = time.perf_counter()
        reply = sch.get_work(worker=worker, host="bench", current_tasks=[])
        t3 = time.perf_counter()
        if reply["task_id"]:
            sch.add_task(worker=worker, task_id=reply["task_id"], status="DONE")
        t4 = time.perf_counter()
        latencies["ping"].append(t1 - t0)
        latencies["add_task"] += [t2 - t1, t4 - t3]
        latencies["get_work"].append(t3 - t2)
        i += 1
    queue.put(latencies)


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def preload(url: str, n_tasks: int) -> None:
    per = n_tasks // LOADERS
    procs = [multiprocessing.Process(target=_client, args=(url, f"p{k}", 0, per)) for k in range(LOADERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()


def measure(name: str, url: str, pid: int, n_tasks: int, clients: int, duration: float) -> None:
    base_rss = rss_bytes(pid)
    t0 = time.perf_counter()
    preload(url, n_tasks)
    load_s = time.perf_counter() - t0
    per_task = (rss_bytes(pid) - base_rss) / n_tasks
    queue: multiprocessing.Queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_loop, args=(url, k, duration, queue)) for k in range(clients)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    merged: dict[str, list[float]] = {}
    for result in results:
        for method, values in result.items():
            merged.setdefault(method, []).extend(values)
    total = sum(len(v) for v in merged.values())
    parts = []
    for method, values in merged.items():
        values.sort()
        p50 = statistics.median(values) * 1000
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))] * 1000
        parts.append(f"{method} p50 {p50:.2f} ms p99 {p99:.2f} ms")
    print(f"{name:6} {n_tasks:>7} tasks | load {n_tasks / load_s:8.0f} add_task/s | {total / duration:8.0f} req/s | "
          + " | ".join(parts) + f" | {per_task:6.0f} B/task", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000, 100000])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--no-real", action="store_true", help="skip Luigi 3.8.1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        cfg = workdir / "client.cfg"
        cfg.write_text("[core]\nrpc_retry_wait = 1\n")
        os.environ["LUIGI_CONFIG_PATH"] = str(cfg)
        for n_tasks in args.sizes:
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
