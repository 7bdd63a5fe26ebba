"""Scheduler operation latency, ours vs real Luigi 3.8.1, side by side.

Usage: python bench/scheduler_ops.py [--sizes 1000,10000,100000] [--build-sizes 1000,10000,100000]
                                     [--million] [--ours-only]

For each size N the same code runs in two subprocesses (this checkout's ``luigi`` and real Luigi
from ``bench/.venv-realluigi``):

* ``add_task``: µs per call while registering N tasks (each depends on the next one);
* ``get_work``: µs per call with N ready tasks queued for the worker (a time budget bounds the
  number of calls, since Luigi's get_work sorts every pending task); each handed-out task is
  reported DONE outside the timed part;
* ``get_work(res)``: the same for a worker whose tasks need a resource (Luigi's global path);
* ``count_pending``/``ping``: µs per call with N tasks known;
* ``build``: seconds for a whole local-scheduler style build of N independent trivial tasks
  (add_task PENDING for all, then get_work + add_task DONE per task, prune on every get_work);
  real Luigi only up to 2,000 tasks, since its build time grows quadratically.

Numbers are printed, never asserted. ``--million`` adds the 1,000,000-task build for ours.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _realluigi import run_ours, run_real_luigi  # noqa: E402

OPS = r'''
import json, sys, time
import luigi.scheduler as S

ARGS = json.loads(sys.argv[1] if len(sys.argv) > 1 else %(args)r)
N = ARGS["n"]
W = "worker"


def timed_calls(call, after=None, budget=1.0, limit=2000):
    """µs per `call` (excluding the untimed `after(reply)`), until `limit` calls or `budget` seconds."""
    count, spent = 0, 0.0
    while count < limit and spent < budget:
        t0 = time.perf_counter()
        reply = call(count)
        spent += time.perf_counter() - t0
        count += 1
        if after is not None:
            after(reply)
    return spent / count * 1e6


def finish(sch):
    """Report the dispatched task DONE, so running tasks do not pile up between timed calls."""
    return lambda reply: reply["task_id"] and sch.add_task(worker=W, task_id=reply["task_id"], status="DONE")


result = {}
sch = S.Scheduler(prune_on_get_work=False, record_task_history=False)
start = time.perf_counter()
for i in range(N):
    sch.add_task(worker=W, task_id="T%%d" %% i, deps=["T%%d" %% (i + 1)] if i + 1 < N else [], family="T",
                 params={"i": str(i)})
result["add_task"] = (time.perf_counter() - start) / N * 1e6

sch = S.Scheduler(prune_on_get_work=False, record_task_history=False)
for i in range(N):
    sch.add_task(worker=W, task_id="R%%d" %% i, family="R", params={"i": str(i)})
result["get_work"] = timed_calls(lambda i: sch.get_work(worker=W, host="h"), finish(sch))
result["count_pending"] = timed_calls(lambda i: sch.count_pending(worker=W))
result["ping"] = timed_calls(lambda i: sch.ping(worker=W))

sch = S.Scheduler(prune_on_get_work=False, record_task_history=False, resources={"r": 10**9})
for i in range(N):
    sch.add_task(worker=W, task_id="Q%%d" %% i, family="Q", params={"i": str(i)}, resources={"r": 1})
result["get_work(res)"] = timed_calls(lambda i: sch.get_work(worker=W, host="h"), finish(sch))
print(json.dumps(result))
'''

BUILD = r'''
import json, sys, time
import luigi.scheduler as S

N = %(n)d
W = "worker"
sch = S.Scheduler(prune_on_get_work=True, record_task_history=False)
start = time.perf_counter()
for i in range(N):
    sch.add_task(worker=W, task_id="B%%d" %% i, family="B", params={"i": str(i)}, status="PENDING")
while True:
    reply = sch.get_work(worker=W, host="h", current_tasks=[])
    if reply["task_id"] is None:
        break
    sch.add_task(worker=W, task_id=reply["task_id"], status="DONE", runnable=None, new_deps=[], expl="null")
print(json.dumps({"build": time.perf_counter() - start}))
'''


REAL_BUILD_LIMIT = 2_000  # Luigi's build is quadratic (10,000 tasks take tens of minutes)


def _measure(code: str, ours_only: bool) -> tuple[dict, dict | None]:
    ours = json.loads(run_ours(code))
    real = None if ours_only else json.loads(run_real_luigi(code))
    return ours, real


def _row(label: str, ours: float, real: float | None, unit: str) -> str:
    real_text = f"{real:12.1f}" if real is not None else f"{'-':>12}"
    ratio = f"{real / ours:11.1f}x" if real is not None and ours > 0 else f"{'':>12}"
    return f"{label:<24}{ours:12.1f}{real_text}{ratio}  {unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--build-sizes", default="1000,10000,100000")
    parser.add_argument("--million", action="store_true", help="also time a 1,000,000-task build (ours only)")
    parser.add_argument("--ours-only", action="store_true", help="skip real Luigi")
    args = parser.parse_args()
    print(f"{'operation (N tasks)':<24}{'ours':>12}{'luigi 3.8.1':>12}{'speedup':>12}")
    for n in (int(x) for x in args.sizes.split(",")):
        ours, real = _measure(OPS % {"args": json.dumps({"n": n})}, args.ours_only)
        for key in ("add_task", "get_work", "get_work(res)", "count_pending", "ping"):
            print(_row(f"{key} ({n:,})", ours[key], real[key] if real else None, "µs/call"), flush=True)
    build_sizes = [int(x) for x in args.build_sizes.split(",")]
    for n in build_sizes + ([1_000_000] if args.million else []):
        ours, real = _measure(BUILD % {"n": n}, args.ours_only or n > REAL_BUILD_LIMIT)
        print(_row(f"build ({n:,})", ours["build"], real["build"] if real else None, "s"), flush=True)


if __name__ == "__main__":
    main()
